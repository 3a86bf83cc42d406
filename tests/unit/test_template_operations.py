"""What template.yaml promises operations, read from the template itself: every alarm can publish
to its topic (the topic's key and policies let CloudWatch), everything that can fail silently has
an alarm, and what must outlive the stack is retained."""

from fnmatch import fnmatch

import pytest

from tests.support.template import template

RESOURCES = template()["Resources"]


def of_type(kind: str) -> dict:
    return {name: resource for name, resource in RESOURCES.items() if resource["Type"] == kind}


def ref(value) -> str | None:
    """The logical id a !Ref / !GetAtt names (None for anything else)."""
    if isinstance(value, dict) and "Ref" in value:
        return value["Ref"]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return target[0] if isinstance(target, list) else target.split(".")[0]
    return None


def allows(statements: list[dict], service: str, action: str) -> bool:
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        principal = (statement.get("Principal") or {}).get("Service")
        if statement["Effect"] == "Allow" and principal == service and any(fnmatch(action, a) for a in actions):
            return True
    return False


ALARMS = of_type("AWS::CloudWatch::Alarm")


def alarmed(namespace: str, metric: str) -> dict[str, list[str]]:
    """For each resource the alarms on ``namespace``/``metric`` watch, the alarms' names."""
    watched: dict[str, list[str]] = {}
    for name, alarm in ALARMS.items():
        properties = alarm["Properties"]
        if (properties.get("Namespace"), properties.get("MetricName")) == (namespace, metric):
            for dimension in properties["Dimensions"]:
                watched.setdefault(ref(dimension["Value"]), []).append(name)
    return watched


@pytest.mark.parametrize("name", sorted(ALARMS))
def test_every_alarm_can_publish_to_its_topic(name):
    actions = ALARMS[name]["Properties"]["AlarmActions"]
    assert actions, f"{name} notifies nobody"
    for action in actions:
        topic = RESOURCES[ref(action)]
        assert topic["Type"] == "AWS::SNS::Topic"
        # An encrypted topic: CloudWatch must be allowed to use its key, and the key must be ours
        # (the AWS-managed alias/aws/sns cannot grant CloudWatch anything).
        key_id = topic["Properties"].get("KmsMasterKeyId")
        if key_id is not None:
            assert ref(key_id) is not None, f"{name}'s topic is encrypted with {key_id}, which CloudWatch cannot use"
            key = RESOURCES[ref(key_id)]
            assert key["Type"] == "AWS::KMS::Key" and key["Properties"]["EnableKeyRotation"] is True
            statements = key["Properties"]["KeyPolicy"]["Statement"]
            assert allows(statements, "cloudwatch.amazonaws.com", "kms:GenerateDataKey")
            assert allows(statements, "cloudwatch.amazonaws.com", "kms:Decrypt")
        policies = [
            p["Properties"]["PolicyDocument"]["Statement"]
            for p in of_type("AWS::SNS::TopicPolicy").values()
            if ref(action) in [ref(t) for t in p["Properties"]["Topics"]]
        ]
        assert any(allows(statements, "cloudwatch.amazonaws.com", "sns:Publish") for statements in policies)


@pytest.mark.parametrize("function", sorted(of_type("AWS::Serverless::Function")))
def test_every_function_has_error_and_throttle_alarms(function):
    assert function in alarmed("AWS/Lambda", "Errors")
    assert function in alarmed("AWS/Lambda", "Throttles")


@pytest.mark.parametrize("queue", sorted(of_type("AWS::SQS::Queue")))
def test_every_dead_letter_queue_has_an_alarm_and_outlives_the_stack(queue):
    assert queue in alarmed("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert RESOURCES[queue].get("DeletionPolicy") == "Retain"
    assert RESOURCES[queue]["Properties"]["SqsManagedSseEnabled"] is True  # .checkov.yaml, CKV_AWS_27


@pytest.mark.parametrize("api", sorted(of_type("AWS::Serverless::HttpApi")))
def test_both_apis_alarm_on_5xx_and_log_no_phone_number(api):
    assert api in alarmed("AWS/ApiGateway", "5xx")
    # The request path carries numbers (/customers/{number}/opt-out); the route key does not.
    assert "$context.path" not in RESOURCES[api]["Properties"]["AccessLogSettings"]["Format"]


def test_the_relay_alarms_when_it_falls_behind_the_stream():
    assert "OutboxRelayFunction" in alarmed("AWS/Lambda", "IteratorAge")


def test_forged_webhooks_alarm_above_a_threshold_for_both_webhooks():
    alarm = ALARMS["ForgedWebhooksAlarm"]["Properties"]
    metrics = [m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m]
    assert {(m["MetricName"], m["Dimensions"][0]["Value"]) for m in metrics} == {
        ("ForgedWebhooks", "inbound-sms"),
        ("ForgedWebhooks", "delivery-status"),
    }
    assert alarm["Threshold"] > 0


@pytest.mark.parametrize("log_group", sorted(of_type("AWS::Logs::LogGroup")))
def test_log_groups_outlive_the_stack(log_group):
    assert RESOURCES[log_group].get("DeletionPolicy") == "Retain"
    assert RESOURCES[log_group].get("UpdateReplacePolicy") == "Retain"


def test_scheduler_may_assume_its_role_only_for_this_stacks_schedule_group():
    [statement] = RESOURCES["SchedulerRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    condition = statement["Condition"]
    assert "aws:SourceAccount" in condition["StringEquals"]
    assert ref(condition["ArnEquals"]["aws:SourceArn"]) == "FollowUpScheduleGroup"


def test_only_the_outbox_relay_may_publish_smsdesk_events_on_the_bus():
    [policy] = of_type("AWS::Events::EventBusPolicy").values()
    statement = policy["Properties"]["Statement"]
    assert ref(policy["Properties"]["EventBusName"]) == "EventBus"
    assert (statement["Effect"], statement["Principal"], statement["Action"]) == ("Deny", "*", "events:PutEvents")
    assert statement["Condition"]["StringEquals"] == {"events:source": "smsdesk"}
    # SAM names a function's generated role <function>Role
    assert ref(statement["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]) == "OutboxRelayFunctionRole"


@pytest.mark.parametrize(
    "function", ["AcknowledgementFunction", "ConsentFunction", "FollowUpFunction", "AgentApiFunction"]
)
def test_a_send_and_its_retries_fit_in_the_sending_functions_timeout_with_margin(function):
    from smsdesk.twilio_messages import RetryPolicy

    timeout = RESOURCES[function]["Properties"].get("Timeout") or template()["Globals"]["Function"]["Timeout"]
    assert RetryPolicy().budget + 5 <= timeout  # 5 s for the table's claim and records around it


def secrets_read_by(function: str) -> set[str]:
    """The secret parameters a function's policies let it read."""
    names = set()
    for policy in RESOURCES[function]["Properties"].get("Policies", []):
        if isinstance(policy, dict) and "AWSSecretsManagerGetSecretValuePolicy" in policy:
            arn = str(policy["AWSSecretsManagerGetSecretValuePolicy"]["SecretArn"])
            names |= {name for name in ("TwilioSecretName", "TwilioApiKeySecretName") if "${" + name + "}" in arn}
    return names


@pytest.mark.parametrize("function", sorted(of_type("AWS::Serverless::Function")))
def test_only_the_webhooks_read_the_auth_token_and_the_senders_use_the_api_key(function):
    webhooks = {"InboundSmsFunction", "DeliveryStatusFunction"}
    senders = {"AcknowledgementFunction", "ConsentFunction", "FollowUpFunction", "AgentApiFunction"}
    expected = (
        {"TwilioSecretName"} if function in webhooks else {"TwilioApiKeySecretName"} if function in senders else set()
    )
    assert secrets_read_by(function) == expected
