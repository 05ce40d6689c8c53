"""Derived communicators and groups from Python, on 4 peers under fmirun."""


def test_split_dup_groups_create_group(launch):
    p = launch(4, "comms.py")
    assert p.output.count("comms ok") == 4
