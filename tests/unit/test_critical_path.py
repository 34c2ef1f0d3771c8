"""The critical path follows the child that finished last, from the root down."""

from glasspane.query.trace_tree import attach, critical_path, to_node


def span(span_id: str, parent: str | None, start: float, end: float) -> dict[str, object]:
    return {
        "span_id": span_id,
        "parent_span_id": parent,
        "start_timestamp": start,
        "timestamp": end,
    }


def test_critical_path_follows_the_last_finishing_child() -> None:
    spans = [
        span("root", None, 0.0, 10.0),
        span("db", "root", 0.0, 3.0),
        span("rpc", "root", 1.0, 9.5),
        span("rpc-inner", "rpc", 2.0, 9.0),
        span("rpc-early", "rpc", 1.0, 2.0),
    ]
    nodes = [to_node(s) for s in spans]
    attach(nodes, [])
    path = {str(nodes[i].span["span_id"]) for i in critical_path(nodes)}
    assert path == {"root", "rpc", "rpc-inner"}


def test_critical_path_of_no_spans_is_empty() -> None:
    assert critical_path([]) == set()
