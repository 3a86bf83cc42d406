"""The agent API's inputs as Powertools dependencies (``Depends``): each parses one part of the
current request (the JSON body, the query string, the headers) into a typed request of
smsdesk.agent_requests, so a route's signature says what it accepts.

At run time nothing here imports pydantic. Powertools' OpenAPI generation reads each part's
``__signature__``: only then (tests, builds) are its fields declared as Powertools' ``Body``,
``Query`` and ``Header`` parameters, pydantic included, and the document follows the routes.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Annotated, Any, Literal

from smsdesk.agent_desk import UNCHANGED
from smsdesk.agent_requests import parse_body, parse_fields, request_fields

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

Part = Literal["body", "query", "header"]


class RequestPart:
    """One part of the request, parsed as ``request_type`` when a route that declares it is called."""

    __slots__ = ("_resolver", "optional", "part", "request_type")

    def __init__(
        self, resolver: APIGatewayHttpResolver, part: Part, request_type: type, *, optional: bool = False
    ) -> None:
        self._resolver = resolver
        self.part = part
        self.request_type = request_type
        self.optional = optional

    def __call__(self) -> Any:
        event = self._resolver.current_event
        if self.part == "body":
            return parse_body(self.request_type, event.decoded_body, optional=self.optional)
        if self.part == "query":
            return parse_fields(self.request_type, event.query_string_parameters)
        return parse_fields(self.request_type, {str(k).lower(): v for k, v in (event.get("headers") or {}).items()})

    @property
    def __signature__(self) -> inspect.Signature:
        """The part's fields as Powertools' parameters (read by its OpenAPI generation only)."""
        from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
        from pydantic import ConfigDict, Field, create_model

        declared = request_fields(self.request_type)
        if self.part == "body":  # a field whose default is UNCHANGED (left as it is) is shown as null
            model = create_model(  # type: ignore[call-overload]
                self.request_type.__name__,
                __config__=ConfigDict(extra="forbid"),
                __doc__=self.request_type.__doc__,
                **{
                    field.name: (
                        field.annotation,
                        Field(
                            ... if field.required else None if field.default == UNCHANGED else field.default,
                            description=field.rules.description or None,
                            max_length=field.rules.max_length,
                        ),
                    )
                    for field in declared
                },
            )
            request = Annotated[model | None if self.optional else model, Body()]  # type: ignore[valid-type]
            default = None if self.optional else inspect.Parameter.empty
            keyword = inspect.Parameter.KEYWORD_ONLY
            return inspect.Signature([inspect.Parameter("request", keyword, default=default, annotation=request)])
        where = Query if self.part == "query" else Header
        parameters = []
        for field in declared:
            rules = field.rules
            parameter = where(description=rules.description or None, alias=rules.alias, ge=rules.ge, le=rules.le)
            parameters.append(
                inspect.Parameter(
                    field.name,
                    inspect.Parameter.KEYWORD_ONLY,
                    default=inspect.Parameter.empty if field.required else field.default,
                    annotation=Annotated[field.annotation, parameter],
                )
            )
        return inspect.Signature(parameters)
