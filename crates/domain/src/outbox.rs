//! The outbox: background work recorded in the same transaction as the
//! business change, then run by workers. This module holds the rules; the
//! storage layer holds the table and the claiming.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Lifecycle of an outbox job.
///
/// ```text
/// pending ──claim──▶ running ──success──▶ done
///    ▲                 │
///    └──retry(backoff)─┤ (attempts < max)
///                      └──give up──────▶ dead   (poisoned, kept aside for operators)
/// running ──lease expired──▶ may be claimed again (worker died)
/// dead ──requeue (operator)──▶ pending
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Pending,
    Running,
    Done,
    Dead,
}

impl JobStatus {
    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Done => "done",
            Self::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Running, Self::Done, Self::Dead]
            .into_iter()
            .find(|j| j.code() == s)
    }

    /// Whether the state machine allows going from `self` to `next`.
    pub fn may_become(self, next: JobStatus) -> bool {
        use JobStatus::*;
        matches!(
            (self, next),
            (Pending, Running)
                | (Running, Done)
                | (Running, Pending)
                | (Running, Dead)
                | (Running, Running) // re-claim after an expired lease
                | (Dead, Pending)
        )
    }

    pub fn is_final(self) -> bool {
        matches!(self, Self::Done)
    }
}

/// What happens after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Run again, not before this delay.
    RetryAfter(Duration),
    /// Give up: the job is moved aside as dead.
    GiveUp,
}

/// Exponential backoff with a ceiling and a maximum number of attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base: Duration,
    pub ceiling: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base: Duration::from_secs(2),
            ceiling: Duration::from_secs(30 * 60),
        }
    }
}

impl RetryPolicy {
    /// Decides after attempt number `attempts` (1 = the first run) has failed.
    pub fn after_failure(&self, attempts: u32) -> AfterFailure {
        if attempts >= self.max_attempts {
            return AfterFailure::GiveUp;
        }
        let exp = attempts.saturating_sub(1).min(30);
        let delay = self
            .base
            .checked_mul(1u32 << exp)
            .unwrap_or(self.ceiling)
            .min(self.ceiling);
        AfterFailure::RetryAfter(delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn backoff_doubles_then_caps() {
        let p = RetryPolicy {
            max_attempts: 5,
            base: Duration::from_secs(1),
            ceiling: Duration::from_secs(5),
        };
        assert_eq!(
            p.after_failure(1),
            AfterFailure::RetryAfter(Duration::from_secs(1))
        );
        assert_eq!(
            p.after_failure(2),
            AfterFailure::RetryAfter(Duration::from_secs(2))
        );
        assert_eq!(
            p.after_failure(3),
            AfterFailure::RetryAfter(Duration::from_secs(4))
        );
        assert_eq!(
            p.after_failure(4),
            AfterFailure::RetryAfter(Duration::from_secs(5))
        );
        assert_eq!(p.after_failure(5), AfterFailure::GiveUp);
    }

    #[test]
    fn done_is_final() {
        for s in [
            JobStatus::Pending,
            JobStatus::Running,
            JobStatus::Done,
            JobStatus::Dead,
        ] {
            assert!(!JobStatus::Done.may_become(s));
            assert_eq!(JobStatus::parse(s.code()), Some(s));
        }
        assert!(JobStatus::Dead.may_become(JobStatus::Pending));
        assert!(!JobStatus::Pending.may_become(JobStatus::Done));
    }

    proptest! {
        #[test]
        fn backoff_is_monotonic_and_bounded(max in 1u32..50, base_ms in 1u64..10_000, ceil_s in 1u64..10_000, a in 1u32..60) {
            let p = RetryPolicy { max_attempts: max, base: Duration::from_millis(base_ms), ceiling: Duration::from_secs(ceil_s) };
            match (p.after_failure(a), p.after_failure(a + 1)) {
                (AfterFailure::RetryAfter(d1), AfterFailure::RetryAfter(d2)) => {
                    prop_assert!(d1 <= d2);
                    prop_assert!(d2 <= p.ceiling);
                }
                (AfterFailure::GiveUp, next) => prop_assert_eq!(next, AfterFailure::GiveUp),
                (AfterFailure::RetryAfter(d), AfterFailure::GiveUp) => {
                    prop_assert!(d <= p.ceiling);
                    prop_assert_eq!(a + 1, max);
                }
            }
            prop_assert_eq!(p.after_failure(a) == AfterFailure::GiveUp, a >= max);
        }
    }
}
