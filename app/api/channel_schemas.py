"""Request and response schemas of the channel API. Money is integer fen; other people are masked."""
from __future__ import annotations

from marshmallow import Schema, fields

from app.api import fields as f
from app.api.schemas import EnrollmentOut, IdentifyIn, IdentifyOut, AssessmentOut, OrderItemOut, OrderOut
from app.domain.channels import RELATIONS

Str = fields.String
Int = fields.Integer
Bool = fields.Boolean


class ChannelOut(Schema):
    code = Str()
    title = Str()
    auth_kind = Str(metadata={"description": "oauth_redirect / app_sdk / account"})
    needs_region = Bool()
    payment_methods = fields.List(Str())


class EntryQuery(f.InSchema):
    region = f.Str(max_length=12, metadata={"description": "统筹区 code, e.g. 370200"})
    redirect_uri = f.Str(max_length=500,
                       metadata={"description": "where the channel sends the code; default our callback"})
    next = f.Str(validate=f.OneOf(["records"]), metadata={"description": "the page to land on"})


class EntryOut(Schema):
    channel = Str()
    kind = Str()
    url = Str(allow_none=True, metadata={"description": "open it to authorize (OAuth)"})
    params = fields.Dict(metadata={"description": "for the channel app's JS SDK"})
    state = Str(metadata={"description": "send back with the code; good once"})
    region = Str(allow_none=True)
    region_name = Str(allow_none=True)


class SessionIn(f.InSchema):
    code = f.Str(required=True, validate=f.Length(min=1, max=512),
               metadata={"description": "the authorization code the channel handed back"})
    state = f.Str(required=True, validate=f.Length(min=1, max=64))


class SessionOut(Schema):
    channel_token = Str(metadata={"description": "send as the X-Channel-Token header"})
    expires_in = Int()
    channel = Str()
    channel_title = Str()
    channel_user = Str(metadata={"description": "the channel's id of this user (who pays)"})
    display = Str()
    region = Str(allow_none=True)
    region_name = Str(allow_none=True)
    self_identified = Bool()
    relatives_identified = Int()
    next = Str(allow_none=True)


class ChannelIdentifyIn(IdentifyIn):
    relation = f.Str(load_default="self", validate=f.OneOf(RELATIONS),
                   metadata={"description": "self (本人) or relative (代他人缴费)"})


class ChannelEnrollmentOut(EnrollmentOut):
    in_region = Bool(metadata={"description": "in the region chosen at entry (城市服务)"})


class ChannelIdentifyOut(IdentifyOut):
    enrollments = fields.List(fields.Nested(ChannelEnrollmentOut))
    relation = Str()
    channel = Str()


class MenuItemOut(Schema):
    key = Str()
    title = Str()
    module = Str(metadata={"description": "pay / choose / special / records / void_choice"})
    filters = fields.Dict()
    children = fields.List(fields.Nested(lambda: MenuItemOut()))


class MenuOpenOut(Schema):
    menu = fields.Nested(MenuItemOut)
    enrollments = fields.List(fields.Nested(EnrollmentOut))
    special_assessments = fields.List(fields.Nested(AssessmentOut))


class PageConfigQuery(f.InSchema):
    url = f.Str(required=True, validate=f.Length(min=1, max=1000), metadata={"description": "the page URL"})


class PageConfigOut(Schema):
    channel = Str()
    config = fields.Dict(metadata={"description": "e.g. the WeChat JS-SDK wx.config"})


class ChannelOrderIn(f.InSchema):
    assessment_ids = f.List(f.Id(big=True), required=True, validate=f.Length(min=1, max=60))
    confirmed_amount_fen = f.Fen(minimum=1, required=True,
                                 metadata={"description": "the order amount the payer confirmed (核对订单金额)"})
    method = f.Str(max_length=32, metadata={"description": "provider.method; default: the channel's own"})


class PaymentStartOut(Schema):
    kind = Str(metadata={"description": "wechat_jsapi / redirect / open_qr_in_app / show_qr"})
    url = Str(allow_none=True)
    params = fields.Dict()


class ChannelOrderItemOut(OrderItemOut):
    relation = Str(metadata={"description": "self or relative"})
    relation_label = Str()


class ChannelOrderOut(OrderOut):
    items = fields.List(fields.Nested(ChannelOrderItemOut))
    start = fields.Nested(PaymentStartOut, allow_none=True)
    paid_by_me = Bool()
    for_others = Bool(metadata={"description": "paid for someone else (代他人缴费)"})
