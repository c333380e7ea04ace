//! argon2id hashing, on blocking threads and a bounded number at a time, so that sign-ins
//! running flat out never hold up other requests. The hashes waiting for a thread are bounded
//! too: past the bound a request is refused at once ([`HashingError::Busy`], answered 503 with
//! `Retry-After`) instead of queueing for seconds. A new password (sign-up) is hashed only when
//! fewer hashes are running or waiting than there are hashing threads, never queued behind
//! others: a flood of sign-ups leaves the queue to sign-ins, which wait behind one hash at most.
//!
//! Hashes run on threads of their own, always the same few. Each hash allocates 19 MiB, and the
//! system allocator keeps a freed block in the arena of the thread that used it: hashing on the
//! runtime's blocking pool (dozens of threads over time) left up to 20 MiB behind in each, and
//! the server grew past 300 MB under mixed traffic; on its own threads it keeps one block each.

use crate::domain::Password;
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

#[derive(Debug, thiserror::Error)]
pub enum HashingError {
    /// As many hashes as the queue holds are running or waiting: try again shortly.
    #[error("too many password hashes waiting")]
    Busy,
    /// argon2's own error; it is not a `std::error::Error`, so its message is what is kept.
    #[error("password hashing failed: {0}")]
    Failed(String),
    #[error("cannot start a hashing thread")]
    Start(#[source] std::io::Error),
    #[error("the hashing threads have stopped")]
    Stopped,
}

/// Hashes that may wait for a thread, per thread hashing.
const WAITING_PER_THREAD: usize = 4;

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads' queue. They end when the last sender is dropped.
type Jobs = mpsc::Sender<Job>;

fn start_threads(count: usize) -> Result<Jobs, HashingError> {
    let (jobs, queue) = mpsc::channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    for n in 0..count {
        let queue = queue.clone();
        std::thread::Builder::new()
            .name(format!("password-hashing-{n}"))
            .spawn(move || {
                loop {
                    // The lock is held only while waiting for the next job.
                    let next = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    match next {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            })
            .map_err(HashingError::Start)?;
    }
    Ok(jobs)
}

#[derive(Clone)]
pub struct PasswordHashing {
    jobs: Jobs,
    /// Hashes running or waiting, and the most that may be.
    queued: Arc<AtomicUsize>,
    capacity: usize,
    /// Hashes that may run at once.
    threads: usize,
    /// Checked when the account does not exist, so that timing does not tell.
    dummy_hash: Arc<str>,
}

impl PasswordHashing {
    /// `parallelism` hashes at most at once; the rest of the cores stay free for requests.
    pub fn new(parallelism: usize) -> Result<Self, HashingError> {
        let parallelism = parallelism.max(1);
        let jobs = start_threads(parallelism)?;
        // On a hashing thread too, so that its memory is theirs.
        let random = Password::attempt(crate::crypto::random_token());
        let (done, dummy) = mpsc::channel();
        jobs.send(Box::new(move || {
            let _ = done.send(hash_blocking(&random));
        }))
        .map_err(|_| stopped())?;
        let dummy_hash = dummy.recv().map_err(|_| stopped())??;
        Ok(Self {
            jobs,
            queued: Arc::new(AtomicUsize::new(0)),
            capacity: parallelism * (1 + WAITING_PER_THREAD),
            threads: parallelism,
            dummy_hash: dummy_hash.into(),
        })
    }

    /// A place for hashing a new password (sign-up), taken before anything else is done, so
    /// that a request refused as busy has counted against nothing. `Busy` unless a hashing
    /// thread is free for it.
    pub fn reserve_for_new_password(&self) -> Result<Reservation, HashingError> {
        self.reserve(self.threads)
    }

    /// A place for checking a password (sign-in): `Busy` once the queue is full.
    pub fn reserve_for_check(&self) -> Result<Reservation, HashingError> {
        self.reserve(self.capacity)
    }

    fn reserve(&self, bound: usize) -> Result<Reservation, HashingError> {
        let place = QueuePlace::take(&self.queued, bound).ok_or(HashingError::Busy)?;
        Ok(Reservation {
            place,
            jobs: self.jobs.clone(),
            dummy_hash: self.dummy_hash.clone(),
        })
    }

    /// Hashes a new password, if a place is free for it.
    pub async fn hash(&self, password: Password) -> Result<String, HashingError> {
        self.reserve_for_new_password()?.hash(password).await
    }

    /// Checks a password, if the queue has room.
    pub async fn verify(
        &self,
        password: Password,
        stored: Option<String>,
    ) -> Result<bool, HashingError> {
        self.reserve_for_check()?.verify(password, stored).await
    }

    /// Hashes running or waiting now (for tests and the benchmark).
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }
}

/// A place in the hashing queue, held until its one hash has run.
pub struct Reservation {
    place: QueuePlace,
    jobs: Jobs,
    dummy_hash: Arc<str>,
}

impl Reservation {
    pub async fn hash(self, password: Password) -> Result<String, HashingError> {
        self.run(move || hash_blocking(&password)).await?
    }

    /// True when `password` matches `stored`. With no stored hash the same work is done
    /// against a dummy, and the answer is false.
    pub async fn verify(
        self,
        password: Password,
        stored: Option<String>,
    ) -> Result<bool, HashingError> {
        let dummy = self.dummy_hash.clone();
        self.run(move || {
            let (hash, real) = match &stored {
                Some(hash) => (hash.as_str(), true),
                None => (&*dummy, false),
            };
            let parsed =
                PasswordHash::new(hash).map_err(|e| HashingError::Failed(e.to_string()))?;
            let matches = Argon2::default()
                .verify_password(password.expose().as_bytes(), &parsed)
                .is_ok();
            Ok(real && matches)
        })
        .await?
    }

    /// Runs `job` once a hashing thread is free. The place is given back when the job is
    /// done, or skipped because the request that asked for it has gone: until then it really
    /// is in the queue.
    async fn run<T: Send + 'static>(
        self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashingError> {
        let (done, answer) = tokio::sync::oneshot::channel();
        let place = self.place;
        self.jobs
            .send(Box::new(move || {
                if done.is_closed() {
                    return;
                }
                let output = job();
                drop(place);
                let _ = done.send(output);
            }))
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())
    }
}

fn stopped() -> HashingError {
    HashingError::Stopped
}

/// A place in the hashing queue, given back when dropped.
struct QueuePlace(Arc<AtomicUsize>);

impl QueuePlace {
    fn take(queued: &Arc<AtomicUsize>, bound: usize) -> Option<Self> {
        queued
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < bound).then_some(n + 1)
            })
            .ok()
            .map(|_| Self(queued.clone()))
    }
}

impl Drop for QueuePlace {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn hash_blocking(password: &Password) -> Result<String, HashingError> {
    // Argon2::default() is argon2id, version 19, with OWASP's recommended costs.
    Argon2::default()
        .hash_password(password.expose().as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| HashingError::Failed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let hashing = PasswordHashing::new(1).unwrap();
        let hash = hashing
            .hash(Password::attempt("correct horse battery".into()))
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(
            hashing
                .verify(
                    Password::attempt("correct horse battery".into()),
                    Some(hash.clone())
                )
                .await
                .unwrap()
        );
        assert!(
            !hashing
                .verify(Password::attempt("wrong horse battery".into()), Some(hash))
                .await
                .unwrap()
        );
        assert!(
            !hashing
                .verify(Password::attempt("anything".into()), None)
                .await
                .unwrap()
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_refuses_at_once_and_new_passwords_leave_room_for_sign_ins() {
        let hashing = PasswordHashing::new(1).unwrap();
        let capacity = hashing.capacity;
        let jobs: Vec<_> = (0..capacity * 3)
            .map(|i| {
                let h = hashing.clone();
                tokio::spawn(
                    async move { h.hash(Password::attempt(format!("password {i}"))).await },
                )
            })
            .collect();
        // Give every sign-up the chance to queue, then a sign-in still finds room.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(hashing.queued() <= hashing.threads);
        let sign_in = hashing
            .verify(Password::attempt("whatever it is".into()), None)
            .await;
        assert!(matches!(sign_in, Ok(false)), "{sign_in:?}");
        let mut busy = 0;
        for job in jobs {
            if matches!(job.await.unwrap(), Err(HashingError::Busy)) {
                busy += 1;
            }
        }
        assert!(busy >= capacity * 3 - hashing.threads, "{busy} refused");
        assert_eq!(hashing.queued(), 0, "every place was given back");

        // Sign-ins too find the queue's end: past it they are refused, not queued.
        let checks: Vec<_> = (0..capacity * 3)
            .map(|_| {
                let h = hashing.clone();
                tokio::spawn(async move { h.verify(Password::attempt("guess".into()), None).await })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(hashing.queued() <= capacity);
        let mut refused = 0;
        for check in checks {
            if matches!(check.await.unwrap(), Err(HashingError::Busy)) {
                refused += 1;
            }
        }
        assert!(refused >= capacity, "{refused} refused");
        assert_eq!(hashing.queued(), 0);
    }
}
