//! `channel`: throughput and round trips of the backend's channel, and bare baselines named for what they are.

use super::prelude::*;

/// The catalogue's row of `channel`.
pub const ROW: Row = Row {
    id: "channel",
    section: "beyond",
    description: "messages per second and round trips through the backend's channel, next to bare baselines named for what they are",
    params: &[
        Param { name: "count", default: "10000" },
        Param { name: "message-size", default: "8 B and 64 KiB" },
    ],
    ideal_wall_s: 0.0,
    default_count: Some(DEFAULT_COUNT),
    outcome_depends_on_kind: false,
    headlines: &[
        Headline { key: "channel_8b_msgs_per_s", label: "8 B messages per second", better: Better::Higher },
        Headline { key: "channel_8b_round_trip_us", label: "8 B round trip", better: Better::Lower },
        Headline { key: "channel_8b_one_core_round_trip_us", label: "8 B round trip, both ends on one core", better: Better::Lower },
        Headline { key: "channel_8b_two_cores_round_trip_us", label: "8 B round trip, ends on two cores", better: Better::Lower },
        Headline { key: "channel_64kib_mb_per_s", label: "64 KiB throughput", better: Better::Higher },
        Headline { key: "channel_msgs_per_s", label: "--message-size messages per second", better: Better::Higher },
        Headline { key: "channel_mb_per_s", label: "--message-size throughput", better: Better::Higher },
        Headline { key: "channel_round_trip_us", label: "--message-size round trip", better: Better::Lower },
        Headline { key: "channel_one_core_round_trip_us", label: "--message-size round trip, both ends on one core", better: Better::Lower },
    ],
    check: check_json::<ChannelOutcome>,
    comparable_outcome,
    comparable_event,
};

/// The worker at the other end of the backend's channel.
pub const PEER: &str = "peer";
/// The worker at the other end of a baseline.
pub const BASELINE_PEER: &str = "baseline-peer";

/// The channel's events are compared; the baselines' are not, nor the peers' (one per path):
/// each backend measures its own baselines, named for what they are.
fn comparable_event(event: &Event) -> Option<super::EventKey> {
    let of_a_baseline = match event.detail.as_deref() {
        _ if event.worker == BASELINE_PEER || event.worker == PEER => true,
        Some(detail) if event.worker == MAIN && event.what == "measured" => {
            !detail.starts_with("channel ")
        }
        _ => false,
    };
    (!of_a_baseline).then(|| event.key())
}

/// The channel's paths are compared; a backend that also lists its baselines in the outcome
/// lists its own.
fn comparable_outcome(outcome: &serde_json::Value) -> serde_json::Value {
    let mut outcome = outcome.clone();
    if let Some(paths) = outcome.get_mut("paths").and_then(|p| p.as_array_mut()) {
        paths.retain(|path| path[0].as_str().is_some_and(|p| p.starts_with("channel ")));
    }
    outcome
}

/// The parameters `compare --sweep` may vary for this demo (options of its backends).
pub const SWEEPS: &[&str] = &["count", "message-size"];

pub const DEFAULT_COUNT: u64 = 10_000;
pub const SMALL_BYTES: usize = 8;
pub const LARGE_BYTES: usize = 64 * 1024;
/// 64 KiB messages are this many times fewer than 8 B ones; a size between or beyond is
/// sent as many times as carries the same bytes as 64 KiB ones would, `--count` at most.
pub const LARGE_DIVISOR: u64 = 20;
/// The fewest messages a size is sent, however large it is.
pub const FEWEST_MESSAGES: u64 = 20;

/// The message sizes a run measures: `--message-size` alone, or 8 B and 64 KiB.
pub fn message_sizes(run: &crate::run::DemoRun) -> Vec<usize> {
    match run.options().message_size {
        Some(bytes) => vec![bytes],
        None => vec![SMALL_BYTES, LARGE_BYTES],
    }
}
/// Round trips are this many times fewer than one-way messages.
pub const ROUND_TRIP_DIVISOR: u64 = 10;

/// `channel`: every message arrived intact and in order, on every path measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelOutcome {
    /// (path, messages sent, messages received intact and in order)
    pub paths: Vec<(String, u64, u64)>,
}

impl Outcome for ChannelOutcome {
    fn check(&self) -> Result<(), String> {
        if self.paths.is_empty() {
            return Err("nothing was measured".into());
        }
        match self
            .paths
            .iter()
            .find(|(_, sent, intact)| sent != intact || *sent == 0)
        {
            Some((path, sent, intact)) => Err(format!(
                "{path}: {sent} sent, {intact} arrived intact and in order"
            )),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_sent_must_arrive_and_one_at_least() {
        let outcome = |paths: &[(&str, u64, u64)]| ChannelOutcome {
            paths: paths
                .iter()
                .map(|(p, s, r)| (p.to_string(), *s, *r))
                .collect(),
        };
        assert_eq!(
            outcome(&[("channel 8b", 20, 20), ("raw 8b", 1, 1)]).check(),
            Ok(())
        );
        assert_eq!(
            outcome(&[("channel 8b", 20, 20), ("raw 8b", 20, 19)]).check(),
            Err("raw 8b: 20 sent, 19 arrived intact and in order".into())
        );
        assert!(outcome(&[("channel 8b", 0, 0)]).check().is_err());
        assert!(outcome(&[]).check().is_err());
        assert_eq!(LARGE_BYTES, 65_536, "64 KiB");
    }

    #[test]
    fn only_the_channel_s_events_are_compared() {
        let event = |worker: &str, what: &str, detail: Option<&str>| Event {
            t_s: 0.5,
            worker: worker.into(),
            what: what.into(),
            detail: detail.map(String::from),
        };
        let kept = [event(MAIN, "measured", Some("channel 8b: 20 messages, 2 round trips"))];
        for event in kept {
            assert_eq!(comparable_event(&event), Some(event.key()));
        }
        let left_out = [
            event(PEER, "ready", None),
            event(BASELINE_PEER, "ready", None),
            event(MAIN, "measured", Some("shared_memory_slot 8b: 20 messages, 2 round trips")),
        ];
        for event in left_out {
            assert_eq!(comparable_event(&event), None, "{event:?}");
        }
    }
}
