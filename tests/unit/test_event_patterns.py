"""The one event-pattern matcher (smsdesk_local.event_patterns), on the examples of the EventBridge
user guide: "Event pattern syntax", "Arrays in event patterns" and "Content filtering". The local
stack filters the table's stream with it and the tests read the stream through it, so a pattern
in template.yaml that AWS would not match must not match here either. (moto's own matcher, which
the tests' EventBridge rules go through, agrees on every case but one: it takes ``true`` for ``1``.)"""

import pytest

from smsdesk_local.event_patterns import matches

EC2_EVENT = {
    "source": "aws.ec2",
    "detail-type": "EC2 Instance State-change Notification",
    "resources": [
        "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b:autoScalingGroupName/ASGTerminate",
        "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
    ],
    "detail": {"state": "terminated", "instance-id": "i-b188560f", "c-count": 5, "enabled": True},
}

CASES = [
    # Every field named, nested the same way; any value of a field's array.
    ({"source": ["aws.ec2", "aws.fargate"]}, True),
    ({"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]}, True),
    ({"source": ["aws.ec2"], "detail": {"state": ["running"]}}, False),
    ({"detail": {"state": ["terminated"]}}, True),
    ({"detail": {"missing": ["terminated"]}}, False),
    ({"state": ["terminated"]}, False),  # at the top, not nested as in the event
    # An array in the event matches when the two arrays share a value.
    ({"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f", "arn:aws:ec2:x"]}, True),
    ({"resources": ["arn:aws:ec2:x", "arn:aws:ec2:y"]}, False),
    # Exact values keep their type.
    ({"detail": {"c-count": [5]}}, True),
    ({"detail": {"c-count": ["5"]}}, False),
    ({"detail": {"enabled": [True]}}, True),
    ({"detail": {"enabled": [1]}}, False),
    # Content filters.
    ({"detail-type": [{"prefix": "EC2 Instance"}]}, True),
    ({"detail-type": [{"prefix": "instance"}]}, False),
    ({"detail-type": [{"prefix": {"equals-ignore-case": "ec2 instance"}}]}, True),
    ({"detail-type": [{"suffix": "Notification"}]}, True),
    ({"detail": {"state": [{"equals-ignore-case": "TERMINATED"}]}}, True),
    ({"detail": {"state": [{"anything-but": "initializing"}]}}, True),
    ({"detail": {"state": [{"anything-but": ["stopped", "terminated"]}]}}, False),
    ({"detail": {"state": [{"anything-but": {"prefix": "term"}}]}}, False),
    ({"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}}, True),
    ({"detail": {"c-count": [{"numeric": [">", 5]}]}}, False),
    ({"detail": {"instance-id": [{"exists": True}]}}, True),
    ({"detail": {"instance-id": [{"exists": False}]}}, False),
    ({"detail": {"reason": [{"exists": False}]}}, True),
    ({"detail": {"reason": [{"anything-but": "x"}]}}, False),  # anything-but needs the field
]


@pytest.mark.parametrize(("pattern", "expected"), CASES)
def test_a_pattern_matches_as_eventbridge_matches_it(pattern, expected):
    assert matches(pattern, EC2_EVENT) is expected


def test_an_operator_it_does_not_know_is_refused_not_guessed():
    with pytest.raises(NotImplementedError, match="wildcard"):
        matches({"detail": {"state": [{"wildcard": "term*"}]}}, EC2_EVENT)
    with pytest.raises(ValueError, match="array or an object"):
        matches({"source": "aws.ec2"}, EC2_EVENT)
