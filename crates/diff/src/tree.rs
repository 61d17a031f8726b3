//! The diff tree: both profiles' stacks merged into one call tree (root =
//! outermost caller), each node carrying before and after values. It is what
//! the flame graphs draw.
//!
//! Every node has *self* values (stacks that end at it) and *total* values
//! (stacks that pass through it: self plus all descendants). Nodes are
//! created parent before child, so totals are summed in one reverse pass.

use rustc_hash::FxHashMap;

use crate::{KeyId, Side, Values};

/// A node's position in the [`Tree`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(u32);

impl NodeId {
    /// The node's position in [`Tree::nodes`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One call-tree node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// The frame this node stands for; `None` only for the root.
    pub key: Option<KeyId>,
    /// The caller's node; the root is its own parent.
    pub parent: NodeId,
    /// Values of the stacks that end here.
    pub self_values: Values,
    /// Values of the stacks that pass through here (self included).
    pub total: Values,
}

/// A call tree of both profiles. See the module documentation.
#[derive(Clone, Debug)]
pub struct Tree {
    nodes: Vec<Node>,
    /// Children of node i: `child_list[child_start[i]..child_start[i + 1]]`.
    child_start: Vec<u32>,
    child_list: Vec<NodeId>,
}

impl Tree {
    /// The root node (all stacks).
    pub const ROOT: NodeId = NodeId(0);

    /// Every node; the root is first and parents come before children.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Every node id, root first, parents before children.
    pub fn node_ids(&self) -> impl ExactSizeIterator<Item = NodeId> + use<> {
        (0..self.nodes.len() as u32).map(NodeId)
    }

    /// A node by id.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// A node's children, in the order they were first seen.
    pub fn children(&self, id: NodeId) -> &[NodeId] {
        let i = id.index();
        &self.child_list[self.child_start[i] as usize..self.child_start[i + 1] as usize]
    }

    /// The keys from the root's child down to `id` (outermost caller first).
    pub fn path(&self, mut id: NodeId) -> Vec<KeyId> {
        let mut keys = Vec::new();
        while let Some(k) = self.nodes[id.index()].key {
            keys.push(k);
            id = self.nodes[id.index()].parent;
        }
        keys.reverse();
        keys
    }
}

/// Accumulates stacks into a tree.
#[derive(Debug)]
pub(crate) struct TreeBuilder {
    nodes: Vec<Node>,
    edges: FxHashMap<(u32, KeyId), NodeId>,
}

impl TreeBuilder {
    pub(crate) fn new() -> Self {
        TreeBuilder {
            nodes: vec![Node {
                key: None,
                parent: Tree::ROOT,
                self_values: Values::default(),
                total: Values::default(),
            }],
            edges: FxHashMap::default(),
        }
    }

    /// Adds one stack, given leaf first.
    pub(crate) fn add(&mut self, side: Side, leaf_first: &[KeyId], value: i64, count: i64) {
        let mut node = Tree::ROOT;
        for &key in leaf_first.iter().rev() {
            let next = NodeId(self.nodes.len() as u32);
            node = *self.edges.entry((node.0, key)).or_insert_with(|| {
                self.nodes.push(Node {
                    key: Some(key),
                    parent: node,
                    self_values: Values::default(),
                    total: Values::default(),
                });
                next
            });
        }
        self.nodes[node.index()].self_values.add(side, value, count);
    }

    pub(crate) fn finish(self) -> Tree {
        let mut nodes = self.nodes;
        for n in &mut nodes {
            n.total = n.self_values;
        }
        for i in (1..nodes.len()).rev() {
            let (parent, total) = (nodes[i].parent.index(), nodes[i].total);
            nodes[parent].total.merge(&total);
        }
        let mut counts = vec![0u32; nodes.len() + 1];
        for n in &nodes[1..] {
            counts[n.parent.index() + 1] += 1;
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        let child_start = counts.clone();
        let mut fill = counts;
        let mut child_list = vec![Tree::ROOT; nodes.len().saturating_sub(1)];
        for (i, n) in nodes.iter().enumerate().skip(1) {
            let slot = &mut fill[n.parent.index()];
            child_list[*slot as usize] = NodeId(i as u32);
            *slot += 1;
        }
        Tree {
            nodes,
            child_start,
            child_list,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacks_merge_by_path_and_totals_sum_up() {
        let (a, b, c) = (KeyId(0), KeyId(1), KeyId(2));
        let mut t = TreeBuilder::new();
        // leaf first: c <- b <- a (a is the root caller)
        t.add(Side::Before, &[c, b, a], 10, 1);
        t.add(Side::After, &[c, b, a], 30, 3);
        t.add(Side::After, &[b, a], 5, 1);
        t.add(Side::After, &[c, a], 7, 1);
        let t = t.finish();
        assert_eq!(t.nodes().len(), 5); // root, a, a;b, a;b;c, a;c
        let root = t.node(Tree::ROOT);
        assert_eq!((root.total.before, root.total.after), (10, 42));
        let a_node = t.children(Tree::ROOT)[0];
        assert_eq!(t.node(a_node).key, Some(a));
        assert_eq!(t.children(a_node).len(), 2);
        let ab = t.children(a_node)[0];
        assert_eq!(t.node(ab).self_values.after, 5);
        assert_eq!(t.node(ab).total.after, 35);
        assert_eq!(t.node(ab).total.count_after, 4);
        let abc = t.children(ab)[0];
        assert_eq!(t.path(abc), vec![a, b, c]);
        assert_eq!(t.node(abc).total.delta(), 20);
    }

    #[test]
    fn empty_stacks_count_at_the_root() {
        let mut t = TreeBuilder::new();
        t.add(Side::After, &[], 9, 1);
        let t = t.finish();
        assert_eq!(t.node(Tree::ROOT).self_values.after, 9);
        assert!(t.children(Tree::ROOT).is_empty());
    }
}
