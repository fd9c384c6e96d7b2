"""REST API (CONTRACTS.md §5, affiliates): programs, partners, commissions, payouts. Thin: parse, one
call, render. Objects are named by their public ids and always looked up inside the key's workspace."""

from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound
from rest_framework.response import Response

from affiliates.models import CommissionStatus, CommissionType, PartnerStatus, PayoutMethod, Program, Recurring
from affiliates.selectors.workspace import (
    commission_list,
    partner_find,
    partner_search,
    payout_get,
    payout_list,
    program_find,
    program_list,
)
from affiliates.services.partners import Taken, partner_create, partner_link
from affiliates.services.payouts import payouts_create, payouts_csv, period_parse
from affiliates.services.programs import PlanRequired, program_create, program_update
from trackrev.common.downloads import csv_attachment
from trackrev.common.errors import ApplicationError
from trackrev.common.money import currency_exponent, decimal_to_minor, minor_to_decimal, money_format
from trackrev.workspaces.apis import Conflict, PaymentRequired, Refused, WorkspaceApiView, WorkspaceListApiView
from trackrev.workspaces.openapi import ErrorSerializer
from trackrev.workspaces.serializer_fields import (
    NOT_BLANK,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictRegexField,
)


def _refusal(error: ApplicationError) -> APIException:
    if isinstance(error, PlanRequired):
        return PaymentRequired(error.message)
    if isinstance(error, Taken):
        return Conflict(error.message)
    return Refused(error.message)


PROGRAM_ID = r"^prg_[a-z0-9]{1,28}$"
# Above zero, at most 10 digits and 2 decimals: `20`, `12.5`, `0.50`.
POSITIVE_AMOUNT = r"^([1-9][0-9]{0,9}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$"
PARTNER_ID = r"^prt_[a-z0-9]{1,28}$"


class ProgramSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", read_only=True)
    name = StrictCharField(max_length=120, validators=[NOT_BLANK])
    commission_type = serializers.ChoiceField(choices=CommissionType.choices)
    commission_value = StrictRegexField(
        POSITIVE_AMOUNT, help_text="Percent (`20` = 20 %) or the flat amount per order: a decimal string above 0."
    )
    recurring = serializers.ChoiceField(choices=Recurring.choices, default=Recurring.LIFETIME)
    recurring_months = StrictIntegerField(min_value=1, max_value=120, required=False, allow_null=True)
    cookie_days = StrictIntegerField(min_value=1, max_value=365, default=60)
    hold_days = StrictIntegerField(min_value=0, max_value=365, default=30)
    minimum_payout = StrictRegexField(
        r"^[0-9]{1,12}(\.[0-9]{1,4})?$",
        default="0",
        help_text="In the program's currency, with at most its decimals (`50.00` USD, `5000` JPY).",
    )
    currency = StrictRegexField(r"^[A-Za-z]{3}$", default="USD")
    destination_url = serializers.URLField(max_length=500)
    applications_open = StrictBooleanField(default=False)
    terms = StrictCharField(max_length=20000, required=False, allow_blank=True, default="")
    reverse_on_cancel = StrictBooleanField(default=True)
    created_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, program: Program) -> dict:
        data = super().to_representation(program)
        data["minimum_payout"] = money_format(program.minimum_payout_minor, program.currency)
        return data

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        if "commission_value" in values:
            values["commission_value"] = Decimal(values["commission_value"])
        if "minimum_payout" in values:
            currency = values.get("currency") or getattr(self.instance, "currency", "USD")
            amount = Decimal(values.pop("minimum_payout"))
            if amount != amount.quantize(minor_to_decimal(1, currency)):
                raise serializers.ValidationError(
                    {"minimum_payout": [f"At most {currency_exponent(currency)} decimals in {currency.upper()}."]}
                )
            values["minimum_payout_minor"] = decimal_to_minor(amount, currency)
        return values


class ProgramListCreateApi(WorkspaceListApiView):
    @extend_schema(responses=ProgramSerializer(many=True), summary="Affiliate programs")
    def get(self, request):
        return self.paginated_response(program_list(workspace=self.workspace), ProgramSerializer)

    @extend_schema(
        request=ProgramSerializer,
        responses={201: ProgramSerializer, 402: OpenApiResponse(ErrorSerializer, description="Pro plan only.")},
        summary="Create a program (Pro plan)",
    )
    def post(self, request):
        serializer = ProgramSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            program = program_create(workspace=self.workspace, **serializer.validated_data)
        except ApplicationError as error:
            raise _refusal(error) from error
        return Response(ProgramSerializer(program).data, status=status.HTTP_201_CREATED)


class ProgramDetailApi(WorkspaceApiView):
    def _program(self, program_id: str) -> Program:
        program = program_find(workspace=self.workspace, public_id=program_id)
        if program is None:
            raise NotFound()
        return program

    @extend_schema(responses=ProgramSerializer, summary="One program")
    def get(self, request, program_id: str):
        return Response(ProgramSerializer(self._program(program_id)).data)

    @extend_schema(request=ProgramSerializer, responses=ProgramSerializer, summary="Change a program")
    def patch(self, request, program_id: str):
        program = self._program(program_id)
        serializer = ProgramSerializer(program, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            program = program_update(program=program, data=serializer.validated_data)
        except ApplicationError as error:
            raise _refusal(error) from error
        return Response(ProgramSerializer(program).data)


class PartnerSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    program = serializers.CharField(source="program.public_id")
    name = serializers.CharField()
    email = serializers.EmailField()
    status = serializers.ChoiceField(choices=PartnerStatus.choices)
    code = serializers.CharField()
    link = serializers.SerializerMethodField()
    payout_method = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_link(self, partner) -> str:
        return partner_link(partner)


class PartnerCreateSerializer(serializers.Serializer):
    program = StrictRegexField(PROGRAM_ID, help_text="The program's id (prg_…).")
    email = serializers.EmailField(max_length=254)
    name = StrictCharField(max_length=120, validators=[NOT_BLANK])
    code = serializers.SlugField(max_length=40, required=False)
    payout_method = serializers.ChoiceField(choices=PayoutMethod.choices, default=PayoutMethod.MANUAL)
    payout_details = serializers.DictField(
        child=StrictCharField(max_length=500, allow_blank=True),
        default=dict,
        help_text="What the method needs: paypal `paypal_email`; stripe `stripe_account` (acct_…, where this "
        "TrackRev offers Stripe payouts); manual `instructions` (optional).",
    )


class PartnerFilterSerializer(serializers.Serializer):
    program = serializers.RegexField(PROGRAM_ID, required=False)
    status = serializers.ChoiceField(choices=PartnerStatus.choices, required=False)


class PartnerListCreateApi(WorkspaceListApiView):
    @extend_schema(parameters=[PartnerFilterSerializer], responses=PartnerSerializer(many=True), summary="Partners")
    def get(self, request):
        return self.paginated_response(
            partner_search(workspace=self.workspace, **self.query(PartnerFilterSerializer)), PartnerSerializer
        )

    @extend_schema(
        request=PartnerCreateSerializer,
        responses={
            201: inline_serializer(
                "PartnerCreated",
                {
                    "id": serializers.CharField(),
                    "status": serializers.CharField(),
                    "code": serializers.CharField(),
                    "link": serializers.CharField(),
                },
            ),
            404: OpenApiResponse(ErrorSerializer, description="No such program in this workspace."),
            409: OpenApiResponse(ErrorSerializer, description="Already a partner, or the code is taken."),
        },
        summary="Add a partner (approved at once; they get an email to set their portal password)",
    )
    def post(self, request):
        serializer = PartnerCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        program = program_find(workspace=self.workspace, public_id=data.pop("program"))
        if program is None:
            raise NotFound("No such program in this workspace.")
        try:
            partner = partner_create(program=program, **data)
        except ApplicationError as error:
            raise _refusal(error) from error
        body = {"id": partner.public_id, "status": partner.status, "code": partner.code, "link": partner_link(partner)}
        return Response(body, status=status.HTTP_201_CREATED)


class PartnerDetailApi(WorkspaceApiView):
    @extend_schema(responses=PartnerSerializer, summary="One partner")
    def get(self, request, partner_id: str):
        partner = partner_find(workspace=self.workspace, public_id=partner_id)
        if partner is None:
            raise NotFound()
        return Response(PartnerSerializer(partner).data)


class CommissionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    partner = serializers.CharField(source="partner.public_id")
    order = serializers.IntegerField(source="order_id")
    kind = serializers.CharField()
    amount = serializers.SerializerMethodField()
    currency = serializers.CharField()
    status = serializers.ChoiceField(choices=CommissionStatus.choices)
    reason = serializers.CharField()
    referred_by = serializers.CharField()
    hold_until = serializers.DateTimeField()
    payout = serializers.IntegerField(source="payout_id", allow_null=True)
    created_at = serializers.DateTimeField()

    def get_amount(self, row) -> str:
        return money_format(row.amount_minor, row.currency)


class CommissionFilterSerializer(serializers.Serializer):
    partner = serializers.RegexField(PARTNER_ID, required=False, help_text="A partner id (prt_…).")
    status = serializers.ChoiceField(choices=CommissionStatus.choices, required=False)


class CommissionListApi(WorkspaceListApiView):
    @extend_schema(
        parameters=[CommissionFilterSerializer],
        responses=CommissionSerializer(many=True),
        summary="Commissions, newest first",
    )
    def get(self, request):
        query = self.query(CommissionFilterSerializer)
        filters = {"partner_public_id": query.get("partner", ""), "status": query.get("status", "")}
        return self.paginated_response(commission_list(workspace=self.workspace, filters=filters), CommissionSerializer)


class PayoutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    partner = serializers.CharField(source="partner.public_id")
    period = serializers.DateField(format="%Y-%m")
    amount = serializers.SerializerMethodField()
    currency = serializers.CharField()
    method = serializers.CharField()
    status = serializers.CharField()
    reference = serializers.CharField()
    error = serializers.CharField()
    paid_at = serializers.DateTimeField(allow_null=True)

    def get_amount(self, payout) -> str:
        return money_format(payout.amount_minor, payout.currency)


class PayoutRunSerializer(serializers.Serializer):
    period = StrictRegexField(
        r"^(20[0-9]{2})-(0[1-9]|1[0-2])$", help_text="A month that has ended, YYYY-MM (2000 or later)."
    )


class PayoutListCreateApi(WorkspaceListApiView):
    @extend_schema(responses=PayoutSerializer(many=True), summary="Payouts, newest month first")
    def get(self, request):
        return self.paginated_response(payout_list(workspace=self.workspace), PayoutSerializer)

    @extend_schema(
        request=PayoutRunSerializer,
        responses={201: inline_serializer("PayoutsCreated", {"payouts": PayoutSerializer(many=True)})},
        summary="Create the payouts of a month that has ended (approved commissions; a repeat adds nothing twice)",
    )
    def post(self, request):
        serializer = PayoutRunSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            period = period_parse(serializer.validated_data["period"])
            payouts = payouts_create(workspace=self.workspace, period=period)
        except ApplicationError as error:
            raise serializers.ValidationError({"period": [error.message]}) from error
        return Response({"payouts": PayoutSerializer(payouts, many=True).data}, status=status.HTTP_201_CREATED)


class PayoutExportApi(WorkspaceApiView):
    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR}, summary="A payout as a manual-transfer CSV line")
    def get(self, request, payout_id: int):
        payout = payout_get(workspace=self.workspace, payout_id=payout_id)
        if payout is None:
            raise NotFound()
        return csv_attachment(payouts_csv([payout]), filename=f"payout-{payout.pk}.csv")
