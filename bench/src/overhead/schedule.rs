//! Who measures when: the two sides take turns, a latency batch each per
//! round and the sequential workflows spread evenly over the rounds, one
//! each per pair. Whoever goes second meets what the first left behind (a
//! WAL to checkpoint, cold caches), so each kind of turn alternates who
//! starts on its own count and neither side is second more often: an A/A
//! run read a +2 % "overhead" on the workflow when the pairs' order
//! followed the rounds' instead.

/// One turn of one side (`0` off, `1` on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// A batch of trigger → first step start samples in `round`.
    Latency { side: usize, round: usize },
    /// One run of the sequential workflow.
    Chain { side: usize },
}

/// Every turn of a comparison of `rounds` latency rounds and `chains`
/// workflows per side, in order.
pub fn turns(rounds: usize, chains: usize) -> Vec<Turn> {
    let order = |count: usize| {
        if count.is_multiple_of(2) {
            [0, 1]
        } else {
            [1, 0]
        }
    };
    // Workflows up to the end of round r: ⌈(r + 1) · chains / rounds⌉.
    let chains_by = |round: usize| (round * chains).div_ceil(rounds.max(1));
    let mut turns = Vec::with_capacity(2 * (rounds + chains));
    let mut pairs = 0;
    for round in 0..rounds {
        turns.extend(order(round).map(|side| Turn::Latency { side, round }));
        for _ in chains_by(round)..chains_by(round + 1) {
            turns.extend(order(pairs).map(|side| Turn::Chain { side }));
            pairs += 1;
        }
    }
    turns
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How often `side` goes first among the pairs of turns `kind` picks.
    fn firsts(turns: &[Turn], kind: fn(&Turn) -> bool, side: usize) -> usize {
        let picked: Vec<&Turn> = turns.iter().filter(|t| kind(t)).collect();
        picked
            .chunks(2)
            .filter(|pair| match *pair[0] {
                Turn::Latency { side: s, .. } | Turn::Chain { side: s } => s == side,
            })
            .count()
    }

    #[test]
    fn both_sides_get_every_turn_and_go_first_equally_often() {
        let is_latency: fn(&Turn) -> bool = |t| matches!(t, Turn::Latency { .. });
        let is_chain: fn(&Turn) -> bool = |t| matches!(t, Turn::Chain { .. });
        // The defaults (3,200 samples in batches of 2, 200 workflows), and
        // odd shapes: more workflows than rounds, fewer, none.
        for (rounds, chains) in [(1_600, 200), (3, 3), (5, 7), (7, 5), (4, 0), (1, 1)] {
            let turns = turns(rounds, chains);
            for side in [0, 1] {
                let latency: Vec<usize> = turns
                    .iter()
                    .filter_map(|t| match t {
                        Turn::Latency { side: s, round } if *s == side => Some(*round),
                        _ => None,
                    })
                    .collect();
                assert_eq!(
                    latency,
                    (0..rounds).collect::<Vec<_>>(),
                    "{rounds}/{chains}"
                );
                let chained = turns.iter().filter(|t| **t == Turn::Chain { side }).count();
                assert_eq!(chained, chains, "{rounds}/{chains}");
            }
            // Pairs are off-then-on or on-then-off, never one side twice.
            for kind in [is_latency, is_chain] {
                let pairs = turns.iter().filter(|t| kind(t)).count() / 2;
                let (off, on) = (firsts(&turns, kind, 0), firsts(&turns, kind, 1));
                assert_eq!(off + on, pairs, "{rounds}/{chains}");
                assert!(off.abs_diff(on) <= 1, "{rounds}/{chains}: {off} vs {on}");
            }
        }
    }

    #[test]
    fn workflows_spread_evenly_over_the_rounds() {
        let turns = turns(10, 4);
        // A pair in rounds 0, 2, 5 and 7: where ⌈4r/10⌉ steps up.
        let mut per_round = vec![0; 10];
        let mut round = 0;
        for t in &turns {
            match t {
                Turn::Latency { round: r, .. } => round = *r,
                Turn::Chain { .. } => per_round[round] += 1,
            }
        }
        assert_eq!(per_round, [2, 0, 2, 0, 0, 2, 0, 2, 0, 0]);
        // Never two workflow pairs in one round when there are fewer
        // workflows than rounds.
        assert!(per_round.iter().all(|n| *n <= 2));
    }
}
