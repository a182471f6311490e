//! A workflow's step graph drawn left to right: one column per longest-path
//! layer (`Dag::levels`), each step a labelled rounded box, each need an
//! arrow. Screen readers get the same graph as a list of stages.

use gantry_core::dag::Dag;
use gantry_core::spec::WorkflowSpec;
use leptos::prelude::*;

const NODE_W: i64 = 150;
const NODE_H: i64 = 36;
const GAP_X: i64 = 56;
const GAP_Y: i64 = 14;
const PAD: i64 = 8;
const LABEL_CHARS: usize = 18;

/// Where everything goes, in SVG user units.
#[derive(Debug, Clone, PartialEq)]
pub struct DagLayout {
    pub width: i64,
    pub height: i64,
    /// Per column, the steps in it (spec order).
    pub stages: Vec<Vec<NodeBox>>,
    pub edges: Vec<Edge>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeBox {
    pub id: String,
    /// The step's name, or its id.
    pub label: String,
    pub needs: Vec<String>,
    pub x: i64,
    pub y: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    pub from: String,
    pub to: String,
    /// SVG path data: a horizontal S-curve from the need's right edge to the
    /// dependent's left edge.
    pub d: String,
}

/// Lays the spec's steps out; `None` if they do not form a DAG (a
/// registered spec always does).
pub fn layout(spec: &WorkflowSpec) -> Option<DagLayout> {
    let dag = Dag::from_spec(spec).ok()?;
    let levels = dag.levels();
    let mut stages = Vec::with_capacity(levels.len());
    let mut at = std::collections::HashMap::new();
    for (col, ids) in levels.iter().enumerate() {
        let mut column = Vec::with_capacity(ids.len());
        for (row, id) in ids.iter().enumerate() {
            let step = spec.step(id)?;
            let (x, y) = (
                PAD + col as i64 * (NODE_W + GAP_X),
                PAD + row as i64 * (NODE_H + GAP_Y),
            );
            at.insert(id.to_string(), (x, y));
            let mut seen = std::collections::HashSet::new();
            let needs: Vec<String> = dag
                .needs(id)
                .iter()
                .filter(|n| seen.insert(n.as_str()))
                .cloned()
                .collect();
            column.push(NodeBox {
                id: id.to_string(),
                label: step.name.clone().unwrap_or_else(|| step.id.clone()),
                needs,
                x,
                y,
            });
        }
        stages.push(column);
    }
    let mut edges = Vec::new();
    for node in stages.iter().flatten() {
        for need in &node.needs {
            let &(nx, ny) = at.get(need)?;
            let (x1, y1) = (nx + NODE_W, ny + NODE_H / 2);
            let (x2, y2) = (node.x - 4, node.y + NODE_H / 2);
            let bend = GAP_X / 2;
            edges.push(Edge {
                from: need.clone(),
                to: node.id.clone(),
                d: format!(
                    "M{x1},{y1} C{},{y1} {},{y2} {x2},{y2}",
                    x1 + bend,
                    x2 - bend
                ),
            });
        }
    }
    let columns = stages.len() as i64;
    let rows = stages.iter().map(Vec::len).max().unwrap_or(0) as i64;
    Some(DagLayout {
        width: (2 * PAD + columns * NODE_W + (columns - 1).max(0) * GAP_X).max(NODE_W),
        height: (2 * PAD + rows * NODE_H + (rows - 1).max(0) * GAP_Y).max(NODE_H),
        stages,
        edges,
    })
}

/// Long names are cut to fit the box; the full name is the node's tooltip
/// and is in the list.
fn fit(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        label.to_owned()
    } else {
        let cut: String = label.chars().take(LABEL_CHARS - 1).collect();
        format!("{cut}…")
    }
}

#[component]
pub fn DagSvg(spec: WorkflowSpec) -> impl IntoView {
    let Some(layout) = layout(&spec) else {
        return view! { <p>"The steps of this version do not form a graph."</p> }.into_any();
    };
    let step_count: usize = layout.stages.iter().map(Vec::len).sum();
    let description = format!(
        "{step_count} steps in {} stages, drawn left to right; an arrow leads from a step to each step that needs it.",
        layout.stages.len()
    );
    let edges = layout
        .edges
        .iter()
        .map(|e| view! { <path class="dag-edge" d=e.d.clone() marker-end="url(#dag-arrow)" /> })
        .collect_view();
    let nodes = layout
        .stages
        .iter()
        .flatten()
        .map(|n| {
            let tip = if n.label == n.id {
                n.id.clone()
            } else {
                format!("{} ({})", n.label, n.id)
            };
            view! {
                <g class="dag-node">
                    <title>{tip}</title>
                    <rect x=n.x y=n.y width=NODE_W height=NODE_H rx="6" ry="6" />
                    <text x=n.x + NODE_W / 2 y=n.y + NODE_H / 2 text-anchor="middle" dominant-baseline="central">
                        {fit(&n.label)}
                    </text>
                </g>
            }
        })
        .collect_view();
    let list = layout
        .stages
        .iter()
        .enumerate()
        .map(|(i, stage)| {
            let steps = stage
                .iter()
                .map(|n| {
                    let needs = if n.needs.is_empty() {
                        String::new()
                    } else {
                        format!(", needs {}", n.needs.join(", "))
                    };
                    let name = if n.label == n.id {
                        n.id.clone()
                    } else {
                        format!("{} ({})", n.label, n.id)
                    };
                    view! { <li>{format!("{name}{needs}")}</li> }
                })
                .collect_view();
            view! { <li>"Stage " {i + 1} <ul>{steps}</ul></li> }
        })
        .collect_view();
    let view_box = format!("0 0 {} {}", layout.width, layout.height);
    view! {
        // Focusable so a graph wider than the screen scrolls by keyboard.
        <div class="dag-scroll" tabindex="0" role="region" aria-label="Step graph">
            <svg
                class="dag"
                role="img"
                aria-labelledby="dag-title dag-desc"
                viewBox=view_box
                width=layout.width
                height=layout.height
            >
                <title id="dag-title">{format!("Step graph of {}", spec.name)}</title>
                <desc id="dag-desc">{description}</desc>
                <defs>
                    <marker id="dag-arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
                        <path d="M0,0 L8,4 L0,8 z" class="dag-arrowhead" />
                    </marker>
                </defs>
                <g class="dag-edges">{edges}</g>
                <g class="dag-nodes">{nodes}</g>
            </svg>
        </div>
        <ol class="sr-only" aria-label=format!("Steps of {} by stage", spec.name)>{list}</ol>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml_steps: &[(&str, &[&str])]) -> WorkflowSpec {
        let steps: Vec<serde_json::Value> = yaml_steps
            .iter()
            .map(|(id, needs)| serde_json::json!({"id": id, "needs": needs, "run": "true"}))
            .collect();
        serde_json::from_value(serde_json::json!({"name": "w", "steps": steps})).unwrap()
    }

    #[test]
    fn diamond_is_three_columns_with_four_edges() {
        let l = layout(&spec(&[
            ("a", &[]),
            ("b", &["a"]),
            ("c", &["a"]),
            ("d", &["b", "c"]),
        ]))
        .unwrap();
        let ids: Vec<Vec<&str>> = l
            .stages
            .iter()
            .map(|s| s.iter().map(|n| n.id.as_str()).collect())
            .collect();
        assert_eq!(ids, vec![vec!["a"], vec!["b", "c"], vec!["d"]]);
        assert_eq!(l.edges.len(), 4);
        assert_eq!(l.width, 2 * PAD + 3 * NODE_W + 2 * GAP_X);
        assert_eq!(l.height, 2 * PAD + 2 * NODE_H + GAP_Y);
        // b sits one column right of a, c below b.
        let b = &l.stages[1][0];
        let c = &l.stages[1][1];
        assert_eq!(b.x, PAD + NODE_W + GAP_X);
        assert_eq!(c.y, b.y + NODE_H + GAP_Y);
        assert!(l.edges[0].d.starts_with(&format!("M{},", PAD + NODE_W)));
    }

    #[test]
    fn duplicate_needs_draw_one_edge_and_labels_fit() {
        let l = layout(&spec(&[("a", &[]), ("b", &["a", "a"])])).unwrap();
        assert_eq!(l.edges.len(), 1);
        assert_eq!(fit("short"), "short");
        assert_eq!(
            fit("a-very-long-step-name-indeed").chars().count(),
            LABEL_CHARS
        );
    }
}
