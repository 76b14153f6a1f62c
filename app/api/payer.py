"""The payer's API: identify, enrollments, base or grade, declare, assessments, status."""
from __future__ import annotations

from flask.views import MethodView

from app.api import schemas as s
from app.api.deps import container, session_person_id
from app.api.parsing import Blueprint
from app.services import declarations, enrollments, identification

blp = Blueprint("payer", __name__, url_prefix="/api/v1", description="缴费人：身份确认、参保登记、基数档次、申报、缴费情况")
SESSION = [{"sessionToken": []}]


@blp.route("/identifications")
class Identifications(MethodView):
    @blp.arguments(s.IdentifyIn)
    @blp.response(201, s.IdentifyOut)
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, data):
        """Identify the insured person by name and document; returns a session token."""
        c = container()
        return identification.identify_person(data["name"], data["id_type"], data["id_number"], c.uow(),
                                              c.sessions, c.settings["IDENTIFICATION_TTL_SECONDS"], c.clock)


@blp.route("/enrollments")
class Enrollments(MethodView):
    @blp.response(200, s.EnrollmentOut(many=True))
    @blp.doc(security=SESSION)
    def get(self):
        """List the identified person's enrollments."""
        return enrollments.list_enrollments(session_person_id(), container().uow())


@blp.route("/enrollments/<int:enrollment_id>")
class EnrollmentDetail(MethodView):
    @blp.response(200, s.EnrollmentDetailOut)
    @blp.doc(security=SESSION)
    def get(self, enrollment_id):
        """Show one enrollment with its bases or grades."""
        c = container()
        return enrollments.show_enrollment(session_person_id(), enrollment_id, c.uow(), c.policies, c.clock)


@blp.route("/enrollments/<int:enrollment_id>/options")
class Options(MethodView):
    @blp.arguments(s.OptionsQuery, location="query")
    @blp.response(200, s.OptionsOut)
    @blp.doc(security=SESSION)
    def get(self, query, enrollment_id):
        """The allowed base range or grades, with a preview of the amount."""
        c = container()
        return enrollments.contribution_options(session_person_id(), enrollment_id, c.uow(), c.policies, c.clock,
                                                year=query.get("year"), base_fen=query.get("base_fen"),
                                                grade=query.get("grade"))


@blp.route("/enrollments/<int:enrollment_id>/choices")
class Choices(MethodView):
    @blp.arguments(s.ChooseIn)
    @blp.response(201, s.ChoiceOut)
    @blp.doc(security=SESSION)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data, enrollment_id):
        """Confirm a base or grade from an effective month (基数确认)."""
        c = container()
        return enrollments.choose_contribution(session_person_id(), enrollment_id, c.uow(), c.policies, c.clock,
                                               base_fen=data.get("base_fen"), grade=data.get("grade"),
                                               effective_month=data.get("effective_month"),
                                               batch_debit_allowed=data["batch_debit_allowed"])


@blp.route("/enrollments/<int:enrollment_id>/choices/<int:choice_id>/void")
class VoidChoice(MethodView):
    @blp.response(200, s.ChoiceOut)
    @blp.doc(security=SESSION)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, enrollment_id, choice_id):
        """Void a base or grade so another can be chosen (基数作废)."""
        c = container()
        return enrollments.void_choice(session_person_id(), enrollment_id, choice_id, c.uow(), c.clock)


@blp.route("/enrollments/<int:enrollment_id>/declarations")
class Declarations(MethodView):
    @blp.arguments(s.DeclareIn)
    @blp.response(201, s.DeclarationOut)
    @blp.doc(security=SESSION)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data, enrollment_id):
        """Declare periods (申报): the current one or past ones (补缴)."""
        c = container()
        return declarations.declare_periods(session_person_id(), enrollment_id, data["periods"], c.uow(),
                                            c.policies, c.clock, c.notices)


@blp.route("/assessments")
class Assessments(MethodView):
    @blp.arguments(s.AssessmentsQuery, location="query")
    @blp.response(200, s.AssessmentOut(many=True))
    @blp.doc(security=SESSION)
    def get(self, query):
        """List the identified person's assessments (应缴费额)."""
        c = container()
        return declarations.list_assessments(session_person_id(), c.uow(), enrollment_id=query.get("enrollment_id"),
                                             state=query.get("state"), policies=c.policies, today=c.clock.today())


@blp.route("/payment-status")
class PaymentStatus(MethodView):
    @blp.arguments(s.StatusQuery, location="query")
    @blp.response(200, s.StatusOut)
    @blp.doc(security=SESSION)
    def get(self, query):
        """Payment status by enrollment and notice number (缴费情况查询)."""
        c = container()
        return declarations.payment_status(session_person_id(), c.uow(), c.policies, c.clock, **query)
