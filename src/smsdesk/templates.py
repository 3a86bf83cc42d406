"""Every text smsdesk sends a customer, in one place.

The house style: professional and warm, plain words, no slang, no emoji, no exclamation marks,
the business named where the law or clarity asks for it. In English every template fits one GSM-7 segment
(160 characters) with realistic values and never needs more than two with the longest allowed
ones (business name 30, contact 40, a long name, an 8-character reference, a promise with a
date and a zone); ``tests/unit/test_templates.py`` renders each with both and counts. Customers who
write in Spanish, French, Portuguese, Chinese or Vietnamese are answered in their language (the
same texts, written for each, measured the same way; a greeting that would push a text past two
segments is dropped, see ``_within_two_segments``). Values that come from customers (their name)
are cleaned to GSM-7 so one accented letter cannot double the cost of the message.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from smsdesk.sms_segments import GSM7_BASIC, count_segments

_CATEGORY_PHRASES = {
    "order": "your order",
    "delivery": "your delivery",
    "billing": "the billing problem",
    "product": "the problem with your product",
    "service": "your experience with us",
    "account": "the problem with your account",
}
_DEFAULT_ISSUE = "the problem you reported"


# Letters that Unicode does not decompose into a base letter plus an accent.
_TRANSLITERATION = {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Œ": "OE", "œ": "oe", "ı": "i", "Þ": "Th", "þ": "th"}


def gsm_safe(text: str, max_length: int) -> str:
    """Fold a customer-supplied value to GSM-7 (accents dropped only where GSM-7 lacks them)."""
    out = []
    for ch in text:
        if ch in GSM7_BASIC and ch not in "\r\n":
            out.append(ch)
            continue
        folded = unicodedata.normalize("NFKD", _TRANSLITERATION.get(ch, ch))
        out.extend(c for c in folded if c in GSM7_BASIC and c not in "\r\n")
    return " ".join("".join(out).split())[:max_length]


def language_of(customer_language: str | None) -> str:
    """The language smsdesk answers in: the customer's, when it has the texts; else English."""
    return customer_language if customer_language in LANGUAGES else "en"


def _hello(name: str | None, language: str = "en") -> str:
    cleaned = gsm_safe(name, 20) if name else ""
    if language == "zh":
        return f"{cleaned}您好，" if cleaned else "您好，"
    word = {"en": "Hi", "es": "Hola", "fr": "Bonjour", "pt": "Oi", "vi": "Chào"}[language]
    return f"{word} {cleaned}," if cleaned else f"{word},"


def issue_phrase(category: str, language: str = "en") -> str:
    phrases = _CATEGORY_PHRASES_BY_LANGUAGE[language]
    return phrases.get(category, phrases["default"])


def acknowledgement(
    *,
    business: str,
    name: str | None,
    reference: str,
    category: str,
    reply_by: str,
    offer_call: bool,
    language: str = "en",
) -> str:
    """The first answer to a new complaint: sorry, the reference, and when a human will reply."""

    texts = _TEXTS[language]

    def render(key: str, greeted: str | None) -> Callable[[], str]:
        def text() -> str:
            said = _text(language, key).format(
                hello=_hello(greeted, language),
                business=business,
                issue=issue_phrase(category, language),
                reference=reference,
                reply_by=reply_by,
            )
            return said + _text(language, "offer_call") if offer_call else said

        return text

    shorter = [render("acknowledgement_short", None)] if "acknowledgement_short" in texts else []
    return _within_two_segments(render("acknowledgement", name), render("acknowledgement", None), *shorter)


def _within_two_segments(*renders: Callable[[], str]) -> str:
    """The first text that fits two segments, richest first (greeting by name, then without it,
    then a language's shorter wording): long values in a UCS-2 language (a 20-letter name, a
    30-letter business, a dated promise) must not make a third segment. The last one otherwise."""
    for render in renders[:-1]:
        if count_segments(text := render()).segments <= 2:
            return text
    return renders[-1]()


def _text(language: str, name: str) -> str:
    text = _TEXTS[language][name]
    assert isinstance(text, str), name
    return text


def help_reply(*, business: str, contact: str, language: str = "en") -> str:
    """HELP/INFO, to anyone: CTIA asks for the business, a contact, the rates notice and STOP."""
    return _text(language, "help").format(business=business, contact=contact)


def opt_out_confirmation(*, business: str, language: str = "en") -> str:
    return _text(language, "opt_out_confirmation").format(business=business)


def opt_in_confirmation(*, business: str, language: str = "en") -> str:
    return _text(language, "opt_in_confirmation").format(business=business)


def opt_in_instructions(*, business: str, language: str = "en") -> str:
    """The answer to an opt-in in words: re-subscription needs the keyword, so say which."""
    return _text(language, "opt_in_instructions").format(business=business)


def complaint_received_again(*, reference: str) -> str:
    """Not sent automatically today; kept with the others for agents' quick replies."""
    return f"Thank you, we have added this to your case {reference}."


# -- keyword auto-responses -------------------------------------------------------------------

DEFAULT_KEYWORD_REPLIES: Mapping[str, str] = {
    "REFUND": (
        "To request a refund, reply with your order number and the reason. We will confirm within 2 business days."
    ),
}
# Answered by hours_reply, status_reply and call_requested below.
BUILT_IN_KEYWORDS = frozenset({"HOURS", "STATUS", "CALL"})


class KeywordSettings(Protocol):
    """The settings that configure keyword replies (BusinessSettings, InboundSettings)."""

    @property
    def keyword_replies(self) -> Mapping[str, str]: ...


def auto_reply_keywords(settings: KeywordSettings) -> frozenset[str]:
    """Every keyword answered automatically: the built-in ones, the default and configured replies.
    (Here rather than in auto_replies, so the inbound webhook reads it without loading the
    sending stack.)"""
    return BUILT_IN_KEYWORDS | frozenset(DEFAULT_KEYWORD_REPLIES) | frozenset(settings.keyword_replies)


def refund_reply(*, open_case: bool, language: str = "en") -> str:
    """REFUND: how to ask; "your complaint stays open" only when there is one."""
    text = _text(language, "refund")
    return text + _text(language, "refund_open") if open_case else text


def hours_reply(*, business: str, hours: str, language: str = "en") -> str:
    """The hours; with "answered when we open" unless a long schedule leaves no room for it."""
    return _within_two_segments(
        lambda: _text(language, "hours").format(business=business, hours=hours),
        lambda: _text(language, "hours_short").format(business=business, hours=hours),
    )


def status_reply(*, reference: str | None, status: str | None, reply_by: str | None, language: str = "en") -> str:
    if reference is None or status is None:
        return _text(language, "status_none")
    words: dict[str, str] = _TEXTS[language]["status_words"]
    text = _text(language, "status").format(reference=reference, words=words.get(status, words["open"]))
    if reply_by and status in {"open", "acknowledged", "waiting_on_agent"}:
        text += _text(language, "will_reply").format(reply_by=reply_by)
    return text


def call_requested(*, reference: str | None, language: str = "en") -> str:
    where = _text(language, "call_about").format(reference=reference) if reference else ""
    return _text(language, "call").format(where=where)


# -- follow-ups -------------------------------------------------------------------------------


def satisfaction_survey(*, business: str, name: str | None, reference: str, language: str = "en") -> str:
    survey = _text(language, "survey")
    return _within_two_segments(
        lambda: survey.format(hello=_hello(name, language), business=business, reference=reference),
        lambda: survey.format(hello=_hello(None, language), business=business, reference=reference),
    )


def satisfaction_thanks(*, score: int, language: str = "en") -> str:
    return _text(language, "thanks_low" if score <= 2 else "thanks")


def sla_update(*, name: str | None, reference: str, language: str = "en") -> str:
    """The promised reply time passed: "we haven't forgotten you"."""
    sla = _text(language, "sla")
    return _within_two_segments(
        lambda: sla.format(hello=_hello(name, language), reference=reference),
        lambda: sla.format(hello=_hello(None, language), reference=reference),
    )


# -- canned responses (agents pick one in the console, then edit it before sending) -----------

CANNED_RESPONSES: Mapping[str, str] = {
    "Replacement on its way": (
        "We're sorry about this. A replacement is on its way and should arrive within 3 business "
        "days. You do not need to return the damaged item."
    ),
    "Refund issued": (
        "We have issued a full refund to your original payment method. It can take 5 to 10 business days to appear."
    ),
    "Need more details": (
        "Thank you for telling us. Please reply with your order number and a short "
        "description of the problem, so we can help you faster."
    ),
    "Looking into it": "Thank you for your patience. We are looking into this now and will reply again today.",
}
# -- the promise, in words --------------------------------------------------------------------

_DAYS = {
    "es": ("el lunes", "el martes", "el miércoles", "el jueves", "el viernes", "el sábado", "el domingo"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "pt": ("segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira", "sábado", "domingo"),
    "zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
    "vi": ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật"),
}
_PROMISES = {  # today, tomorrow, a weekday, a date (day/month); {t} is the 24-hour clock
    "es": ("hoy antes de las {t}", "mañana antes de las {t}", "{day} antes de las {t}", "el {d}/{m} antes de las {t}"),
    "fr": ("avant {t} aujourd'hui", "avant {t} demain", "avant {t} {day}", "avant {t} le {d}/{m}"),
    # Portuguese names tomorrow and the weekdays by date: "amanhã", "terça", "sábado" are UCS-2.
    "pt": ("hoje até as {t}", "até as {t} de {d}/{m}", "até as {t} de {d}/{m}", "até as {t} de {d}/{m}"),
    "zh": ("在今天{t}前", "在明天{t}前", "在{day}{t}前", "在{m}月{d}日{t}前"),
    "vi": ("trước {t} hôm nay", "trước {t} ngày mai", "trước {t} {day}", "trước {t} ngày {d}/{m}"),
}


def promise_in(language: str, local: datetime, days: int) -> str:
    """When a person will reply, in ``language`` (not English: business_hours words that)."""
    clock = f"{local.hour}:{local.minute:02d}" if language != "fr" else f"{local.hour}h{local.minute:02d}"
    today, tomorrow, weekday, date = _PROMISES[language]
    values = {"t": clock, "d": local.day, "m": local.month, "day": _DAYS[language][local.weekday()]}
    if days == 0:
        return today.format(**values)
    if days == 1:
        return tomorrow.format(**values)
    if 1 < days <= 6:
        return weekday.format(**values)
    return date.format(**values)


# -- the texts, by language -------------------------------------------------------------------
# Written, not machine-translated; each is measured in segments per language in
# tests/unit/test_templates.py (Chinese and Vietnamese need UCS-2: 70 characters a segment).

_CATEGORY_PHRASES_BY_LANGUAGE = {
    "en": {**_CATEGORY_PHRASES, "default": _DEFAULT_ISSUE},
    "es": {
        "order": "lo ocurrido con su pedido",
        "delivery": "lo ocurrido con su entrega",
        "billing": "el problema de cobro",
        "product": "el problema con su producto",
        "service": "su experiencia con nosotros",
        "account": "el problema con su cuenta",
        "default": "el problema que nos indica",
    },
    "fr": {
        "order": "votre commande",
        "delivery": "votre livraison",
        "billing": "le problème de facturation",
        "product": "le problème avec votre produit",
        "service": "votre expérience avec nous",
        "account": "le problème avec votre compte",
        "default": "le problème signalé",
    },
    "pt": {
        "order": "o problema com seu pedido",
        "delivery": "o problema com sua entrega",
        "billing": "o problema no pagamento",
        "product": "o problema com seu produto",
        "service": "o atendimento recebido",
        "account": "o problema com sua conta",
        "default": "o problema relatado",
    },
    "zh": {
        "order": "您的订单出了问题",
        "delivery": "您的配送出了问题",
        "billing": "账单出了问题",
        "product": "您的产品出了问题",
        "service": "给您带来不好的体验",
        "account": "您的账户出了问题",
        "default": "给您带来不便",
    },
    "vi": {
        "order": "đơn hàng của bạn",
        "delivery": "việc giao hàng",
        "billing": "vấn đề thanh toán",
        "product": "sản phẩm của bạn",
        "service": "trải nghiệm của bạn",
        "account": "tài khoản của bạn",
        "default": "sự cố bạn gặp",
    },
}

_TEXTS: dict[str, dict[str, Any]] = {
    "en": {
        "acknowledgement": "{hello} {business} here. We're sorry about {issue}. Your reference is {reference}. "
        "A member of our team will reply {reply_by}.",
        "offer_call": " Reply CALL if you would like us to phone you.",
        "help": "{business} support: {contact}. Msg&data rates may apply. Reply STOP to opt out.",
        "opt_out_confirmation": "You're unsubscribed from {business} texts and will get no more messages. "
        "Reply START to resubscribe.",
        "opt_in_confirmation": "You're subscribed to {business} texts again. Msg&data rates may apply. "
        "Reply HELP for help, STOP to opt out.",
        "opt_in_instructions": "To get texts from {business} again, reply START.",
        "refund": DEFAULT_KEYWORD_REPLIES["REFUND"],
        "refund_open": " Your complaint stays open.",
        "hours": "{business} support hours: {hours}. Texts sent outside these hours are answered when we open.",
        "hours_short": "{business} support hours: {hours}.",
        "status_none": "We have no open case for this number. Text us your question and we will help.",
        "status": "Your case {reference} {words}.",
        "status_words": {
            "open": "is open",
            "acknowledged": "is waiting for our team",
            "waiting_on_agent": "is waiting for our team",
            "waiting_on_customer": "is waiting for your reply",
            "resolved": "has been resolved",
            "closed": "is closed",
        },
        "will_reply": " A member of our team will reply {reply_by}.",
        "call": "Thank you. A member of our team will call you{where} during business hours.",
        "call_about": " about case {reference}",
        "survey": "{hello} {business} here. We resolved your issue (ref {reference}). "
        "How did we do? Reply 1 (poor) to 5 (great).",
        "thanks": "Thank you for your feedback.",
        "thanks_low": "Thank you for telling us. We're sorry we fell short; a member of our team will follow up.",
        "sla": "{hello} we haven't forgotten you. Your case {reference} is taking longer than we promised; "
        "a member of our team will reply as soon as possible.",
    },
    "es": {
        "acknowledgement": "{hello} le escribe {business}. Lamentamos {issue}. Su referencia es {reference}. "
        "Le responderemos {reply_by}.",
        "offer_call": " Responda CALL si desea que le llamemos.",
        "help": "Soporte de {business}: {contact}. Pueden aplicarse tarifas de mensajes y datos. "
        "Responda STOP para darse de baja.",
        "opt_out_confirmation": "Se ha dado de baja de los mensajes de {business}. "
        "Responda START para volver a suscribirse.",
        "opt_in_confirmation": "Se ha vuelto a suscribir a los mensajes de {business}. Pueden aplicarse tarifas. "
        "Responda HELP para ayuda, STOP para darse de baja.",
        "opt_in_instructions": "Para volver a recibir mensajes de {business}, responda START.",
        "refund": "Para pedir un reembolso, responda indicando su pedido y el motivo. "
        "Le confirmaremos dentro de 2 jornadas laborables.",
        "refund_open": " Su queja sigue abierta.",
        "hours": "Horario de {business}: {hours}. Los mensajes fuera de horario se responden cuando abrimos.",
        "hours_short": "Horario de {business}: {hours}.",
        "status_none": "No tenemos casos abiertos para este celular. Si tiene una pregunta, responda a este mensaje "
        "y le ayudaremos.",
        "status": "Su caso {reference} {words}.",
        "status_words": {
            "open": "está abierto",
            "acknowledged": "espera a nuestro equipo",
            "waiting_on_agent": "espera a nuestro equipo",
            "waiting_on_customer": "espera su respuesta",
            "resolved": "se ha resuelto",
            "closed": "está cerrado",
        },
        "will_reply": " Le responderemos {reply_by}.",
        "call": "Gracias. Le llamaremos{where} en nuestro horario de servicio.",
        "call_about": " sobre el caso {reference}",
        "survey": "{hello} le escribe {business}. Resolvimos su caso (ref {reference}). "
        "¿Qué tal lo hicimos? Responda de 1 (mal) a 5 (excelente).",
        "thanks": "Gracias por su respuesta.",
        "thanks_low": "Gracias por su respuesta. Lamentamos no haber estado a la altura; le contactaremos pronto.",
        "sla": "{hello} no le hemos olvidado. Su caso {reference} se ha retrasado respecto a lo prometido; "
        "le responderemos lo antes posible.",
    },
    "fr": {
        "acknowledgement": "{hello} ici {business}. Nous sommes désolés pour {issue}. Votre référence : {reference}. "
        "Nous vous répondrons {reply_by}.",
        "offer_call": " Répondez CALL si vous souhaitez un appel.",
        "help": "Assistance {business} : {contact}. Frais de messages et de données possibles. "
        "Répondez STOP pour vous désabonner.",
        "opt_out_confirmation": "Vous ne recevrez plus de SMS de {business}. Répondez START pour vous réabonner.",
        "opt_in_confirmation": "Vous recevrez de nouveau les SMS de {business}. Frais de messages possibles. "
        "Répondez HELP pour de l'aide, STOP pour vous désabonner.",
        "opt_in_instructions": "Pour recevoir de nouveau les SMS de {business}, répondez START.",
        "refund": "Pour demander un remboursement, répondez avec votre numéro de commande et le motif. "
        "Nous confirmerons sous 2 jours ouvrés.",
        "refund_open": " Votre réclamation reste ouverte.",
        "hours": "Horaires de {business} : {hours}. Les messages hors de ces horaires sont traités à l'ouverture.",
        "hours_short": "Horaires de {business} : {hours}.",
        "status_none": "Nous n'avons aucun dossier ouvert pour ce numéro. Écrivez-nous votre question, "
        "nous vous aiderons.",
        "status": "Votre dossier {reference} {words}.",
        "status_words": {
            "open": "est ouvert",
            "acknowledged": "attend notre équipe",
            "waiting_on_agent": "attend notre équipe",
            "waiting_on_customer": "attend votre réponse",
            "resolved": "a été résolu",
            "closed": "est clos",
        },
        "will_reply": " Nous vous répondrons {reply_by}.",
        "call": "Merci. Un membre de notre équipe vous appellera{where} pendant nos horaires d'ouverture.",
        "call_about": " au sujet du dossier {reference}",
        "survey": "{hello} ici {business}. Votre demande est résolue (réf {reference}). "
        "Votre avis : répondez de 1 (mauvais) à 5 (excellent).",
        "thanks": "Merci pour votre avis.",
        "thanks_low": "Merci de nous l'avoir dit. Nous sommes désolés ; un membre de notre équipe vous recontactera.",
        "sla": "{hello} nous ne vous oublions pas. Votre dossier {reference} prend plus de temps que prévu ; "
        "nous vous répondrons dès que possible.",
    },
    "pt": {
        "acknowledgement": "{hello} aqui é {business}. Lamentamos {issue}. Protocolo {reference}. "
        "Responderemos {reply_by}.",
        "offer_call": " Responda CALL se quiser que liguemos.",
        "help": "Suporte {business}: {contact}. Podem ser cobradas tarifas de mensagens e dados. "
        "Responda STOP para sair.",
        "opt_out_confirmation": "{business} parou de enviar mensagens para este celular. "
        "Responda START para receber de novo.",
        "opt_in_confirmation": "Pronto, as mensagens de {business} foram reativadas. Podem ser cobradas tarifas. "
        "Responda HELP para ajuda, STOP para sair.",
        "opt_in_instructions": "Para voltar a receber mensagens de {business}, responda START.",
        "refund": "Para pedir reembolso, responda com o número do pedido e o motivo. "
        "Confirmaremos em até 2 dias úteis.",
        "refund_open": " Sua reclamação continua aberta.",
        "hours": "Atendimento {business}: {hours}. Respondemos as mensagens fora do expediente quando abrirmos.",
        "hours_short": "Atendimento {business}: {hours}.",
        "status_none": "Nenhum caso aberto para este celular. Envie sua pergunta e vamos ajudar.",
        "status": "Seu caso {reference} {words}.",
        "status_words": {
            "open": "segue aberto",
            "acknowledged": "aguarda nossa equipe",
            "waiting_on_agent": "aguarda nossa equipe",
            "waiting_on_customer": "aguarda sua resposta",
            "resolved": "foi resolvido",
            "closed": "foi encerrado",
        },
        "will_reply": " Responderemos {reply_by}.",
        "call": "Obrigado. Nossa equipe vai ligar para este celular{where} durante o expediente.",
        "call_about": " sobre o caso {reference}",
        "survey": "{hello} aqui é {business}. Resolvemos seu caso (protocolo {reference}). "
        "Avalie nosso atendimento: responda de 1 (ruim) a 5 (excelente).",
        "thanks": "Obrigado pela sua resposta.",
        "thanks_low": "Obrigado por nos avisar. Lamentamos; nossa equipe vai entrar em contato.",
        "sla": "{hello} seguimos com seu caso {reference}, que levou mais tempo que o prometido. "
        "Responderemos o quanto antes.",
    },
    "zh": {
        "acknowledgement": "{hello}这里是{business}。很抱歉{issue}。您的编号是{reference}，我们将{reply_by}回复您。",
        "offer_call": "如需电话联系，请回复CALL。",
        "help": "{business}客服：{contact}。可能产生短信和流量费用。回复STOP退订。",
        "opt_out_confirmation": "您已退订{business}的短信，不会再收到消息。回复START可重新订阅。",
        "opt_in_confirmation": "您已重新订阅{business}的短信。可能产生短信费用。回复HELP获取帮助，回复STOP退订。",
        "opt_in_instructions": "如需重新接收{business}的短信，请回复START。",
        "refund": "如需退款，请回复订单号和原因。我们将在2个工作日内确认。",
        "refund_open": "您的投诉仍在处理中。",
        "hours": "{business}客服时间：{hours}。非工作时间的短信将在上班后回复。",
        "hours_short": "{business}客服时间：{hours}。",
        "status_none": "此号码没有未结案件。请发送您的问题，我们会帮助您。",
        "status": "您的案件{reference}{words}。",
        "status_words": {
            "open": "处理中",
            "acknowledged": "正等待我们的团队处理",
            "waiting_on_agent": "正等待我们的团队处理",
            "waiting_on_customer": "正等待您的回复",
            "resolved": "已解决",
            "closed": "已关闭",
        },
        "will_reply": "我们将{reply_by}回复您。",
        "call": "谢谢。我们的团队将在工作时间内致电您{where}。",
        "call_about": "（案件{reference}）",
        "survey": "{hello}这里是{business}。您的问题已解决（编号{reference}）。请回复1（差）到5（很好）为我们打分。",
        "thanks": "感谢您的反馈。",
        "thanks_low": "感谢您的反馈。很抱歉让您失望，我们的团队会跟进。",
        "sla": "{hello}我们没有忘记您。您的案件{reference}处理时间超出了承诺，我们会尽快回复您。",
    },
    "vi": {
        "acknowledgement": "{hello} {business} xin lỗi về {issue}. Mã hồ sơ: {reference}. "
        "Nhân viên sẽ trả lời {reply_by}.",
        "acknowledgement_short": "{business} xin lỗi về sự cố. Mã: {reference}. Sẽ trả lời {reply_by}.",
        "offer_call": " Trả lời CALL để được gọi lại.",
        "help": "{business}: {contact}. Có thể tính phí tin nhắn. Trả lời STOP để hủy.",
        "opt_out_confirmation": "Đã hủy nhận tin từ {business}. Trả lời START để nhận lại.",
        "opt_in_confirmation": "Bạn đã đăng ký lại tin nhắn từ {business}. Có thể tính phí. "
        "Trả lời HELP để được hỗ trợ, STOP để hủy.",
        "opt_in_instructions": "Để nhận lại tin từ {business}, hãy trả lời START.",
        "refund": "Để hoàn tiền, hãy gửi mã đơn và lý do. Sẽ xác nhận trong 2 ngày làm việc.",
        "refund_open": " Khiếu nại của bạn vẫn đang mở.",
        "hours": "Giờ hỗ trợ {business}: {hours}. Tin nhắn ngoài giờ sẽ được trả lời khi mở cửa.",
        "hours_short": "Giờ hỗ trợ {business}: {hours}.",
        "status_none": "Số này không có hồ sơ đang mở. Hãy nhắn câu hỏi, chúng tôi sẽ hỗ trợ.",
        "status": "Hồ sơ {reference} {words}.",
        "status_words": {
            "open": "đang mở",
            "acknowledged": "đang chờ nhân viên xử lý",
            "waiting_on_agent": "đang chờ nhân viên xử lý",
            "waiting_on_customer": "đang chờ bạn trả lời",
            "resolved": "đã được giải quyết",
            "closed": "đã đóng",
        },
        "will_reply": " Nhân viên sẽ trả lời {reply_by}.",
        "call": "Cảm ơn. Nhân viên sẽ gọi bạn{where} trong giờ làm việc.",
        "call_about": " về hồ sơ {reference}",
        "survey": "{hello} {business} đã giải quyết vấn đề của bạn (mã {reference}). "
        "Hãy trả lời 1 (kém) đến 5 (rất tốt).",
        "thanks": "Cảm ơn bạn đã đánh giá.",
        "thanks_low": "Cảm ơn bạn. Rất tiếc vì chưa làm tốt; nhân viên sẽ liên hệ lại.",
        "sla": "{hello} chúng tôi không quên bạn. Hồ sơ {reference} bị chậm hơn dự kiến; "
        "nhân viên sẽ trả lời sớm nhất có thể.",
    },
}
LANGUAGES = frozenset(_TEXTS)
