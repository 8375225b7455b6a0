//! Evaluation against hand-made gold annotations (stub).
