//! The step graph of a workflow: who needs whom. Index-based and built once
//! per spec; every traversal is iterative so a 500-step chain cannot
//! overflow the stack. A [`Dag`] is acyclic by construction.

use crate::spec::WorkflowSpec;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap, VecDeque};

/// Why steps do not form a DAG.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DagError {
    #[error("step {step} needs unknown step {need}")]
    UnknownNeed { step: String, need: String },
    #[error("step {step} needs itself")]
    SelfNeed { step: String },
    /// `cycle` names one concrete cycle, each step needing the next, with the
    /// first id repeated at the end: `[a, b, c, a]`.
    #[error("steps form a cycle: {}", cycle.join(" → "))]
    Cycle { cycle: Vec<String> },
    /// Two steps share an id, so `needs` would be ambiguous.
    #[error("two steps have the id {step}")]
    DuplicateId { step: String },
}

/// The dependency graph. Steps keep their spec order; edges are indices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dag {
    ids: Vec<String>,
    index: HashMap<String, usize>,
    /// `needs` as written (duplicates kept), for callers that show them.
    needs_as_written: Vec<Vec<String>>,
    /// Deduplicated need indices, ascending.
    needs: Vec<Vec<usize>>,
    /// Reverse edges: the steps needing this one, ascending.
    dependents: Vec<Vec<usize>>,
}

impl Dag {
    /// Builds the graph from `(id, needs)` pairs in spec order.
    pub fn new<'a>(
        steps: impl IntoIterator<Item = (&'a str, &'a [String])>,
    ) -> Result<Dag, DagError> {
        let mut ids = Vec::new();
        let mut needs_as_written = Vec::new();
        let mut index = HashMap::new();
        for (id, needs) in steps {
            if index.insert(id.to_owned(), ids.len()).is_some() {
                return Err(DagError::DuplicateId {
                    step: id.to_owned(),
                });
            }
            ids.push(id.to_owned());
            needs_as_written.push(needs.to_vec());
        }

        let mut need_idx = Vec::with_capacity(ids.len());
        let mut dependents = vec![Vec::new(); ids.len()];
        for (i, written) in needs_as_written.iter().enumerate() {
            let mut set = BTreeSet::new();
            for need in written {
                let Some(&j) = index.get(need) else {
                    return Err(DagError::UnknownNeed {
                        step: ids[i].clone(),
                        need: need.clone(),
                    });
                };
                if j == i {
                    return Err(DagError::SelfNeed {
                        step: ids[i].clone(),
                    });
                }
                set.insert(j);
            }
            for &j in &set {
                dependents[j].push(i);
            }
            need_idx.push(set.into_iter().collect());
        }

        let dag = Dag {
            ids,
            index,
            needs_as_written,
            needs: need_idx,
            dependents,
        };
        match dag.find_cycle() {
            Some(cycle) => Err(DagError::Cycle { cycle }),
            None => Ok(dag),
        }
    }

    /// The graph of a spec's steps.
    pub fn from_spec(spec: &WorkflowSpec) -> Result<Dag, DagError> {
        Dag::new(
            spec.steps
                .iter()
                .map(|s| (s.id.as_str(), s.needs.as_slice())),
        )
    }

    /// Iterative three-colour DFS along `needs` edges, starting from steps in
    /// spec order. Returns one cycle, rotated to start at its earliest step.
    fn find_cycle(&self) -> Option<Vec<String>> {
        #[derive(Clone, Copy, PartialEq)]
        enum Colour {
            White,
            Grey,
            Black,
        }
        let mut colour = vec![Colour::White; self.ids.len()];
        for start in 0..self.ids.len() {
            if colour[start] != Colour::White {
                continue;
            }
            // (node, index of the next need to look at)
            let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
            colour[start] = Colour::Grey;
            while let Some(top) = stack.last_mut() {
                let (node, next) = *top;
                match self.needs[node].get(next) {
                    Some(&need) => {
                        top.1 += 1;
                        match colour[need] {
                            Colour::White => {
                                colour[need] = Colour::Grey;
                                stack.push((need, 0));
                            }
                            Colour::Grey => {
                                let from = stack.iter().position(|&(n, _)| n == need).unwrap_or(0);
                                let mut cycle: Vec<usize> =
                                    stack[from..].iter().map(|&(n, _)| n).collect();
                                let first = cycle
                                    .iter()
                                    .enumerate()
                                    .min_by_key(|&(_, &n)| n)
                                    .map_or(0, |(pos, _)| pos);
                                cycle.rotate_left(first);
                                let mut names: Vec<String> =
                                    cycle.iter().map(|&n| self.ids[n].clone()).collect();
                                if let Some(head) = names.first().cloned() {
                                    names.push(head);
                                }
                                return Some(names);
                            }
                            Colour::Black => {}
                        }
                    }
                    None => {
                        colour[node] = Colour::Black;
                        stack.pop();
                    }
                }
            }
        }
        None
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Whether a step with this id exists.
    pub fn contains(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }

    /// Step ids in spec order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.ids.iter().map(String::as_str)
    }

    /// The step's `needs` as written; empty for an unknown id.
    pub fn needs(&self, id: &str) -> &[String] {
        self.index
            .get(id)
            .map_or(&[][..], |&i| self.needs_as_written[i].as_slice())
    }

    /// Steps that directly need `id`, in spec order.
    pub fn dependents(&self, id: &str) -> Vec<&str> {
        self.index
            .get(id)
            .map(|&i| self.names(self.dependents[i].iter().copied()))
            .unwrap_or_default()
    }

    /// Steps without needs, in spec order: what a fresh run starts with.
    pub fn roots(&self) -> Vec<&str> {
        (0..self.ids.len())
            .filter(|&i| self.needs[i].is_empty())
            .map(|i| self.ids[i].as_str())
            .collect()
    }

    /// Every step after all of its needs. Among steps ready at the same
    /// time the spec order decides, so the order is stable.
    pub fn topological_order(&self) -> Vec<&str> {
        let mut waiting: Vec<usize> = self.needs.iter().map(Vec::len).collect();
        let mut ready: BTreeSet<usize> = (0..self.ids.len()).filter(|&i| waiting[i] == 0).collect();
        let mut order = Vec::with_capacity(self.ids.len());
        while let Some(i) = ready.pop_first() {
            order.push(self.ids[i].as_str());
            for &d in &self.dependents[i] {
                waiting[d] -= 1;
                if waiting[d] == 0 {
                    ready.insert(d);
                }
            }
        }
        order
    }

    /// Whether `ancestor` must finish before `of` can start (directly or
    /// through other steps). A step is not its own ancestor.
    pub fn is_ancestor(&self, ancestor: &str, of: &str) -> bool {
        match (self.index.get(ancestor), self.index.get(of)) {
            (Some(&a), Some(&o)) => self.reach(o, &self.needs).contains(&a),
            _ => false,
        }
    }

    /// Every step `id` waits for, directly or not, in spec order.
    pub fn ancestors(&self, id: &str) -> Vec<&str> {
        self.index
            .get(id)
            .map(|&i| self.names(self.reach(i, &self.needs)))
            .unwrap_or_default()
    }

    /// Every step waiting for `id`, directly or not, in spec order: what a
    /// failure of `id` skips.
    pub fn descendants(&self, id: &str) -> Vec<&str> {
        self.index
            .get(id)
            .map(|&i| self.names(self.reach(i, &self.dependents)))
            .unwrap_or_default()
    }

    /// Columns for drawing the graph left to right: a step sits one column
    /// right of its furthest need (longest-path layering). Spec order within
    /// a column.
    pub fn levels(&self) -> Vec<Vec<&str>> {
        let mut level = vec![0usize; self.ids.len()];
        for id in self.topological_order() {
            if let Some(&i) = self.index.get(id) {
                level[i] = self.needs[i]
                    .iter()
                    .map(|&n| level[n] + 1)
                    .max()
                    .unwrap_or(0);
            }
        }
        let depth = level.iter().max().map_or(0, |m| m + 1);
        let mut columns = vec![Vec::new(); if self.ids.is_empty() { 0 } else { depth }];
        for (i, &l) in level.iter().enumerate() {
            columns[l].push(self.ids[i].as_str());
        }
        columns
    }

    /// Indices reachable from `from` along `edges`, excluding `from`, ascending.
    fn reach(&self, from: usize, edges: &[Vec<usize>]) -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        let mut queue: VecDeque<usize> = edges[from].iter().copied().collect();
        while let Some(n) = queue.pop_front() {
            if seen.insert(n) {
                queue.extend(edges[n].iter().copied());
            }
        }
        seen.remove(&from);
        seen
    }

    fn names(&self, indices: impl IntoIterator<Item = usize>) -> Vec<&str> {
        indices.into_iter().map(|i| self.ids[i].as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(edges: &[(&str, &[&str])]) -> Result<Dag, DagError> {
        let owned: Vec<(String, Vec<String>)> = edges
            .iter()
            .map(|(id, needs)| {
                (
                    (*id).to_owned(),
                    needs.iter().map(|n| (*n).to_owned()).collect(),
                )
            })
            .collect();
        Dag::new(owned.iter().map(|(id, n)| (id.as_str(), n.as_slice())))
    }

    fn diamond() -> Dag {
        build(&[("d", &["b", "c"]), ("b", &["a"]), ("c", &["a"]), ("a", &[])]).unwrap()
    }

    #[test]
    fn diamond_order_roots_and_levels() {
        let d = diamond();
        assert_eq!(d.len(), 4);
        assert_eq!(d.ids().collect::<Vec<_>>(), ["d", "b", "c", "a"]);
        assert_eq!(d.roots(), ["a"]);
        assert_eq!(d.topological_order(), ["a", "b", "c", "d"]);
        assert_eq!(d.levels(), vec![vec!["a"], vec!["b", "c"], vec!["d"]]);
        assert_eq!(d.needs("d"), ["b".to_owned(), "c".to_owned()]);
        assert!(d.needs("zz").is_empty());
        assert_eq!(d.dependents("a"), ["b", "c"]);
        assert!(d.dependents("d").is_empty());
    }

    #[test]
    fn topological_order_prefers_spec_order_among_ready_steps() {
        let d = build(&[("x", &[]), ("y", &["z"]), ("z", &[]), ("w", &[])]).unwrap();
        assert_eq!(d.topological_order(), ["x", "z", "y", "w"]);
    }

    #[test]
    fn levels_use_the_longest_path() {
        // e needs a directly and through b → c, so it sits after c.
        let d = build(&[
            ("a", &[]),
            ("b", &["a"]),
            ("c", &["b"]),
            ("e", &["a", "c"]),
            ("f", &[]),
        ])
        .unwrap();
        assert_eq!(
            d.levels(),
            vec![vec!["a", "f"], vec!["b"], vec!["c"], vec!["e"]]
        );
        assert!(build(&[]).unwrap().levels().is_empty());
    }

    #[test]
    fn ancestors_and_descendants() {
        let d = diamond();
        assert!(d.is_ancestor("a", "d"));
        assert!(d.is_ancestor("b", "d"));
        assert!(!d.is_ancestor("d", "a"));
        assert!(!d.is_ancestor("b", "c"));
        assert!(!d.is_ancestor("a", "a"));
        assert!(!d.is_ancestor("nope", "a"));
        assert_eq!(d.ancestors("d"), ["b", "c", "a"]);
        assert_eq!(d.descendants("a"), ["d", "b", "c"]);
        assert!(d.descendants("d").is_empty());
    }

    #[test]
    fn duplicate_needs_are_harmless() {
        let d = build(&[("a", &[]), ("b", &["a", "a"])]).unwrap();
        assert_eq!(d.dependents("a"), ["b"]);
        assert_eq!(d.topological_order(), ["a", "b"]);
    }

    #[test]
    fn errors_name_the_problem() {
        type Edges<'a> = Vec<(&'a str, &'a [&'a str])>;
        let cases: Vec<(Edges, DagError)> = vec![
            (
                vec![("a", &["x"])],
                DagError::UnknownNeed {
                    step: "a".into(),
                    need: "x".into(),
                },
            ),
            (vec![("a", &["a"])], DagError::SelfNeed { step: "a".into() }),
            (
                vec![("a", &[]), ("a", &[])],
                DagError::DuplicateId { step: "a".into() },
            ),
            (
                vec![("a", &["b"]), ("b", &["a"])],
                DagError::Cycle {
                    cycle: vec!["a".into(), "b".into(), "a".into()],
                },
            ),
            (
                // Found from `root`, reported from the cycle's earliest step.
                vec![
                    ("root", &["c"]),
                    ("a", &["b"]),
                    ("b", &["c"]),
                    ("c", &["a"]),
                ],
                DagError::Cycle {
                    cycle: vec!["a".into(), "b".into(), "c".into(), "a".into()],
                },
            ),
        ];
        for (edges, want) in cases {
            assert_eq!(build(&edges), Err(want), "{edges:?}");
        }
        let err = build(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"])]).unwrap_err();
        assert_eq!(err.to_string(), "steps form a cycle: a → b → c → a");
    }

    #[test]
    fn long_chain_needs_no_recursion() {
        let n = 500;
        let ids: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
        let needs: Vec<Vec<String>> = (0..n)
            .map(|i| {
                if i == 0 {
                    vec![]
                } else {
                    vec![ids[i - 1].clone()]
                }
            })
            .collect();
        let d = Dag::new(
            ids.iter()
                .map(String::as_str)
                .zip(needs.iter().map(Vec::as_slice)),
        )
        .unwrap();
        assert_eq!(d.levels().len(), n);
        assert!(d.is_ancestor("s0", "s499"));
        assert_eq!(d.descendants("s0").len(), n - 1);
        assert_eq!(d.topological_order().first(), Some(&"s0"));

        // The same chain closed into a ring: one 500-step cycle.
        let mut ring = needs.clone();
        ring[0] = vec![ids[n - 1].clone()];
        let err = Dag::new(
            ids.iter()
                .map(String::as_str)
                .zip(ring.iter().map(Vec::as_slice)),
        )
        .unwrap_err();
        match err {
            DagError::Cycle { cycle } => {
                assert_eq!(cycle.len(), n + 1);
                assert_eq!(cycle.first(), Some(&"s0".to_owned()));
                assert_eq!(cycle.get(1), Some(&"s499".to_owned()));
            }
            other => panic!("expected a cycle, got {other:?}"),
        }
    }
}
