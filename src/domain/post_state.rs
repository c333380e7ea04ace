//! Where a post's delivery stands: each target's state, and the post's own, which summarises
//! its targets.

crate::named_enum! {
    /// One account's delivery: `scheduled` → `publishing` → `published` | `failed` |
    /// `unknown`, or `canceled`. `unknown` means the platform may or may not have the post: it
    /// is never sent again by itself.
    pub enum TargetState {
        Scheduled = "scheduled",
        Publishing = "publishing",
        Published = "published",
        Failed = "failed",
        Unknown = "unknown",
        Canceled = "canceled",
    }
}

crate::named_enum! {
    /// A post as a whole.
    pub enum PostState {
        Scheduled = "scheduled",
        Publishing = "publishing",
        Published = "published",
        PartiallyPublished = "partially_published",
        Failed = "failed",
        NeedsAttention = "needs_attention",
        Canceled = "canceled",
    }
}

crate::named_enum! {
    /// How one attempt at delivering a target ended; `publishing` while it is under way, and
    /// `rescheduled` when the platform asked to come back later (a rate limit).
    pub enum AttemptOutcome {
        Publishing = "publishing",
        Published = "published",
        Failed = "failed",
        Unknown = "unknown",
        Rescheduled = "rescheduled",
    }
}

impl PostState {
    /// The post's state from its targets': anything unknown needs a person first; then
    /// anything still on its way; then how the delivered ones ended. Canceled targets count
    /// only when every target was canceled.
    pub fn of(targets: &[TargetState]) -> Self {
        use TargetState as T;
        let any = |state: T| targets.contains(&state);
        let live: Vec<T> = targets
            .iter()
            .copied()
            .filter(|s| *s != T::Canceled)
            .collect();
        if live.is_empty() {
            return PostState::Canceled;
        }
        if any(T::Unknown) {
            return PostState::NeedsAttention;
        }
        if any(T::Publishing) || (any(T::Scheduled) && (any(T::Published) || any(T::Failed))) {
            return PostState::Publishing;
        }
        if any(T::Scheduled) {
            return PostState::Scheduled;
        }
        match (any(T::Published), any(T::Failed)) {
            (true, false) => PostState::Published,
            (false, _) => PostState::Failed,
            (true, true) => PostState::PartiallyPublished,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{PostState as P, TargetState as T};

    #[test]
    fn a_post_summarises_its_targets() {
        for (targets, expected) in [
            (vec![T::Scheduled, T::Scheduled], P::Scheduled),
            (vec![T::Scheduled, T::Publishing], P::Publishing),
            (vec![T::Published, T::Scheduled], P::Publishing),
            (vec![T::Published, T::Published], P::Published),
            (vec![T::Published, T::Failed], P::PartiallyPublished),
            (vec![T::Failed, T::Failed], P::Failed),
            (vec![T::Published, T::Unknown], P::NeedsAttention),
            (vec![T::Unknown, T::Publishing], P::NeedsAttention),
            (vec![T::Canceled, T::Canceled], P::Canceled),
            (vec![T::Canceled, T::Published], P::Published),
            (vec![], P::Canceled),
        ] {
            assert_eq!(P::of(&targets), expected, "{targets:?}");
        }
    }
}
