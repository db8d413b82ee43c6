//! Shutdown as a signal every task can wait on.
//!
//! A [`Trigger`] is held by whoever decides that shutdown begins (the
//! gateway's `run`, once its shutdown future completes); each task that
//! must stop holds a [`Shutdown`] made from it and waits on it beside its
//! own work, in a `select!`. Taken from mini-redis's `Shutdown`, with one
//! difference: the signal is a `watch` channel rather than a `broadcast`
//! one, because a connection's task clones the listener's `Shutdown` (a
//! `broadcast` receiver cannot be cloned) and the serving threads each run
//! their own runtime (a `watch` value is seen from any of them, and by a
//! task that starts waiting after the signal was given).

use tokio::sync::watch;

/// Gives the signal, once, to every [`Shutdown`] made from it.
#[derive(Debug)]
pub struct Trigger {
    begun: watch::Sender<bool>,
}

/// Waits for a [`Trigger`]'s signal.
#[derive(Debug, Clone)]
pub struct Shutdown {
    begun: watch::Receiver<bool>,
}

impl Default for Trigger {
    fn default() -> Self {
        Trigger::new()
    }
}

impl Trigger {
    /// A trigger whose signal is not given yet.
    pub fn new() -> Trigger {
        Trigger {
            begun: watch::Sender::new(false),
        }
    }

    /// A [`Shutdown`] that completes once [`Trigger::begin`] is called (at
    /// once, if it already was).
    pub fn subscribe(&self) -> Shutdown {
        Shutdown {
            begun: self.begun.subscribe(),
        }
    }

    /// Gives the signal: every [`Shutdown::wait`] completes.
    pub fn begin(&self) {
        self.begun.send_replace(true);
    }
}

impl Shutdown {
    /// Whether the signal was given.
    pub fn is_begun(&self) -> bool {
        *self.begun.borrow()
    }

    /// Completes once the signal is given.
    pub async fn wait(&mut self) {
        // The guard `wait_for` returns must not live across an await. An
        // error means the trigger is gone without a signal: then nothing
        // will ever begin it, and waiting ends too, as shutdown would.
        let _ = self.begun.wait_for(|begun| *begun).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `shutdown.wait()` completes without waiting.
    async fn begun_now(shutdown: &mut Shutdown) -> bool {
        tokio::select! {
            biased;
            () = shutdown.wait() => true,
            () = std::future::ready(()) => false,
        }
    }

    #[tokio::test]
    async fn every_shutdown_waits_until_the_signal_then_completes() {
        let trigger = Trigger::new();
        let mut early = trigger.subscribe();
        let mut cloned = early.clone();
        assert!(!begun_now(&mut early).await, "completed before the signal");
        assert!(!cloned.is_begun());

        trigger.begin();
        assert!(begun_now(&mut early).await);
        assert!(begun_now(&mut cloned).await);
        let mut late = trigger.subscribe();
        assert!(
            begun_now(&mut late).await,
            "a late subscriber waits for nothing"
        );
        assert!(early.is_begun() && cloned.is_begun() && late.is_begun());
    }
}
