"""The peer: a typical Powertools webhook for the same job (make bench's cold-webhook figure).

What an engineer who deploys serverless Python writes by default: Logger, Metrics, Tracer,
APIGatewayHttpResolver, Parameters for the secret, twilio's RequestValidator, pynamodb models.
It makes the same AWS calls as smsdesk's webhook on its first request (the secret, a consistent
GetItem of the customer, one TransactWriteItems of five puts). Never deployed: benchmarks only.
"""

import contextlib
import os
from urllib.parse import parse_qsl

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities import parameters
from pynamodb.attributes import UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite
from twilio.request_validator import RequestValidator

logger = Logger()
metrics = Metrics()
tracer = Tracer()
app = APIGatewayHttpResolver()


class Record(Model):
    class Meta:
        table_name = os.environ["TABLE_NAME"]
        region = os.environ["AWS_REGION"]
        host = os.environ.get("AWS_ENDPOINT_URL")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()
    body = UnicodeAttribute(null=True)


@app.post("/sms/inbound")
@tracer.capture_method
def inbound() -> Response:
    secret = parameters.get_secret(os.environ["TWILIO_SECRET_ID"], transform="json", max_age=300)
    event = app.current_event
    params = dict(parse_qsl(event.decoded_body, keep_blank_values=True))
    url = f"https://{event.headers['host']}{event.raw_path}"
    if not RequestValidator(secret["auth_token"]).validate(url, params, event.headers.get("x-twilio-signature", "")):
        return Response(403, "text/plain", "forbidden")
    number, sid = params["From"], params["MessageSid"]
    with contextlib.suppress(Record.DoesNotExist):
        Record.get(f"CUSTOMER#{number}", "PROFILE", consistent_read=True)
    with TransactWrite(connection=Connection(region=os.environ["AWS_REGION"], host=Record.Meta.host)) as work:
        for pk, sk, kind in [
            (f"CUSTOMER#{number}", "PROFILE", "customer"),
            (f"CUSTOMER#{number}", f"CONV#{sid}", "conversation"),
            (f"CUSTOMER#{number}", f"MSG#{sid}", "message"),
            (f"SID#{sid}", "SID", "sid"),
            (f"EVENT#{sid}", "EVENT", "event"),
        ]:
            work.save(Record(pk, sk, kind=kind, body=params.get("Body")), condition=Record.pk.does_not_exist())
    metrics.add_metric(name="InboundTexts", unit="Count", value=1)
    logger.info("text received", message_sid=sid)
    return Response(200, "text/xml", '<?xml version="1.0" encoding="UTF-8"?><Response></Response>')


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    return app.resolve(event, context)
