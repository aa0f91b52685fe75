"""What the backend says to visitors, in each language the site publishes.

The first language is the site's default (served at `/`); the others live under
`/<lang>/`, as Pelican's editions plugin lays them out. A new edition adds its words here.
"""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "received_title": "Thank you, we have your request",
        "refused_title": "Your request was not sent",
        "unavailable_title": "We cannot take requests right now",
        "unavailable": (
            "Our request service is unavailable for a moment. Nothing was saved. Please try "
            "again in a few minutes, or call us on {phone}."
        ),
        "back": "Back to the form",
        "missing": "Please fill in {field}.",
        "too_long": "{field} is too long: at most {limit} characters.",
        "invalid": "{field} does not look right; please check it.",
        "field_name": "your name",
        "field_email": "your e-mail address",
        "field_phone": "your phone number",
        "field_country": "your country of residence",
        "field_message": "your message",
        "field_request": "what you would like",
        "token_missing": (
            "To keep automated posts out, please check your details and press Send request."
        ),
        "token_fast": "That was very fast. Please check your details and press Send request again.",
        "token_old": (
            "This form was open for a long time. Please check your details and press Send "
            "request again."
        ),
        "token_bad": "This form could not be checked. Please check your details and send it again.",
        "honeypot": "Your request could not be accepted.",
        "too_many": "You have sent many requests in a short time. Please try again later.",
        "too_big": "Your message is too long to send. Please shorten it.",
        "origin": "This form can only be sent from our own website.",
        "send": "Send request",
        "callback": "a callback",
        "quotation": "a quotation",
        "notify_subject": "Website: {kind} request from {name}",
        "confirm_subject": "We have received your request",
        "confirm_body": (
            "Dear {name},\n\n"
            "Thank you for asking for {kind}. Our customer service team answers every request "
            "within one working day.\n\n"
            "What you sent us:\n\n{summary}\n\n"
            "If you did not send this request, you can ignore this e-mail; we use these details "
            "only to answer it. Our privacy policy: {policy}\n\n"
            "Cloud 7 customer service\n{phone}\n"
        ),
    },
    "nl": {
        "received_title": "Dank u wel, we hebben uw verzoek ontvangen",
        "refused_title": "Uw verzoek is niet verstuurd",
        "unavailable_title": "We kunnen nu geen verzoeken aannemen",
        "unavailable": (
            "Onze verzoekdienst is even niet beschikbaar. Er is niets opgeslagen. Probeer het "
            "over een paar minuten opnieuw, of bel ons op {phone}."
        ),
        "back": "Terug naar het formulier",
        "missing": "Vul {field} in.",
        "too_long": "{field} is te lang: hoogstens {limit} tekens.",
        "invalid": "{field} lijkt niet te kloppen; controleer het.",
        "field_name": "uw naam",
        "field_email": "uw e-mailadres",
        "field_phone": "uw telefoonnummer",
        "field_country": "uw woonland",
        "field_message": "uw bericht",
        "field_request": "wat u wilt",
        "token_missing": (
            "Om automatische berichten te weren: controleer uw gegevens en klik op Verzoek "
            "versturen."
        ),
        "token_fast": (
            "Dat ging wel erg snel. Controleer uw gegevens en klik nogmaals op Verzoek versturen."
        ),
        "token_old": (
            "Dit formulier stond lang open. Controleer uw gegevens en klik nogmaals op Verzoek "
            "versturen."
        ),
        "token_bad": (
            "Dit formulier kon niet worden gecontroleerd. Controleer uw gegevens en verstuur "
            "het opnieuw."
        ),
        "honeypot": "Uw verzoek kon niet worden aangenomen.",
        "too_many": "U hebt in korte tijd veel verzoeken verstuurd. Probeer het later opnieuw.",
        "too_big": "Uw bericht is te lang om te versturen. Maak het korter.",
        "origin": "Dit formulier kan alleen vanaf onze eigen website worden verstuurd.",
        "send": "Verzoek versturen",
        "callback": "een terugbelverzoek",
        "quotation": "een offerte",
        "notify_subject": "Website: {kind} van {name}",
        "confirm_subject": "We hebben uw verzoek ontvangen",
        "confirm_body": (
            "Beste {name},\n\n"
            "Dank u wel voor uw aanvraag van {kind}. Onze klantenservice beantwoordt elk "
            "verzoek binnen één werkdag.\n\n"
            "Wat u ons stuurde:\n\n{summary}\n\n"
            "Hebt u dit verzoek niet verstuurd, dan kunt u deze e-mail negeren; we gebruiken "
            "deze gegevens alleen om het te beantwoorden. Ons privacybeleid: {policy}\n\n"
            "Klantenservice van Cloud 7\n{phone}\n"
        ),
    },
}
LANGUAGES = tuple(WORDS)
DEFAULT_LANGUAGE = LANGUAGES[0]
PHONE = "+31 20 555 0107"


def language(value: str) -> str:
    """A language the site publishes: the given one if known, else the default."""
    return value if value in WORDS else DEFAULT_LANGUAGE


def say(lang: str, key: str, **fill: object) -> str:
    return WORDS[language(lang)][key].format(**fill)


def site_path(lang: str, path: str) -> str:
    """A site path in a language's edition: `contact/` → `/contact/` or `/nl/contact/`."""
    lang = language(lang)
    return ("/" if lang == DEFAULT_LANGUAGE else f"/{lang}/") + path
