//! How a run ended, the one rule every stage ends by, and the exit code
//! that tells scripts (as grep does: 0 found, 1 nothing found, 2 an error).

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything done (exit 0).
    Ok,
    /// Ran fine but found nothing (exit 1), as grep does.
    NothingFound,
    /// At least one input failed (exit 2); the others were still processed.
    Error,
    /// Stopped by Ctrl-C (exit 130, as shells report SIGINT); what was
    /// finished is kept, and rerunning the command resumes.
    Interrupted,
}

impl Outcome {
    /// The rule: an input that failed makes the run an error; else a run
    /// that found nothing says so; else it is done.
    pub fn of(failed: usize, found: usize) -> Outcome {
        if failed > 0 {
            Outcome::Error
        } else if found == 0 {
            Outcome::NothingFound
        } else {
            Outcome::Ok
        }
    }

    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Ok => 0,
            Outcome::NothingFound => 1,
            Outcome::Error => 2,
            Outcome::Interrupted => 130,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_come_before_nothing_found() {
        assert_eq!(Outcome::of(1, 0), Outcome::Error);
        assert_eq!(Outcome::of(1, 5), Outcome::Error);
        assert_eq!(Outcome::of(0, 0), Outcome::NothingFound);
        assert_eq!(Outcome::of(0, 3), Outcome::Ok);
        assert_eq!(
            [Outcome::Ok, Outcome::NothingFound, Outcome::Error, Outcome::Interrupted].map(Outcome::code),
            [0, 1, 2, 130]
        );
    }
}
