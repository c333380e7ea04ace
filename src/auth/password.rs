//! argon2id hashing, on blocking threads and a bounded number at a time, so that sign-ins
//! running flat out never hold up other requests.

use crate::domain::Password;
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use std::sync::Arc;
use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashingError(String);

#[derive(Clone)]
pub struct PasswordHashing {
    permits: Arc<Semaphore>,
    /// Checked when the account does not exist, so that timing does not tell.
    dummy_hash: Arc<str>,
}

impl PasswordHashing {
    /// `parallelism` hashes at most at once; the rest of the cores stay free for requests.
    pub fn new(parallelism: usize) -> Result<Self, HashingError> {
        let random = crate::crypto::random_token();
        let dummy_hash = hash_blocking(&Password::attempt(random))?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(parallelism.max(1))),
            dummy_hash: dummy_hash.into(),
        })
    }

    pub async fn hash(&self, password: Password) -> Result<String, HashingError> {
        self.run(move || hash_blocking(&password)).await?
    }

    /// True when `password` matches `stored`. With no stored hash the same work is done
    /// against a dummy, and the answer is false.
    pub async fn verify(
        &self,
        password: Password,
        stored: Option<String>,
    ) -> Result<bool, HashingError> {
        let dummy = self.dummy_hash.clone();
        self.run(move || {
            let (hash, real) = match &stored {
                Some(hash) => (hash.as_str(), true),
                None => (&*dummy, false),
            };
            let parsed = PasswordHash::new(hash).map_err(|e| HashingError(e.to_string()))?;
            let matches = Argon2::default()
                .verify_password(password.expose().as_bytes(), &parsed)
                .is_ok();
            Ok(real && matches)
        })
        .await?
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashingError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| HashingError(e.to_string()))?;
        tokio::task::spawn_blocking(job)
            .await
            .map_err(|e| HashingError(e.to_string()))
    }
}

fn hash_blocking(password: &Password) -> Result<String, HashingError> {
    // Argon2::default() is argon2id, version 19, with OWASP's recommended costs.
    Argon2::default()
        .hash_password(password.expose().as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| HashingError(e.to_string()))
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
}
