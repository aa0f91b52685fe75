"""What the backend says to visitors, in each language the site publishes.

The first language is the site's default (served at `/`); the others live under
`/<lang>/`, as Pelican's editions plugin lays them out. A new edition adds its words here.
"""

from __future__ import annotations

import functools
from pathlib import Path

THEME = Path(__file__).resolve().parent.parent / "theme"
# What a newsletter sign-up agrees to, in one file: the form shows it (pelicanconf.py
# reads the same file for theme/templates/newsletter.html, translated by the theme's
# catalogs) and the proof of opt-in stores it; a posted text is never stored.
NEWSLETTER_CONSENT = (THEME / "newsletter_consent.txt").read_text(encoding="utf-8").strip()
CATALOGS = THEME / "translations"

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
            "To keep automated posts out, please check your details and press {button}."
        ),
        "token_fast": "That was very fast. Please check your details and press {button} again.",
        "token_old": (
            "This form was open for a long time. Please check your details and press "
            "{button} again."
        ),
        "token_bad": "This form could not be checked. Please check your details and send it again.",
        "honeypot": "Your request could not be accepted.",
        "too_many": "You have sent many requests in a short time. Please try again later.",
        "too_big": "Your message is too long to send. Please shorten it.",
        "origin": "This form can only be sent from our own website.",
        "newsletter_confirm_subject": "Please confirm your subscription to the Cloud 7 newsletter",
        "newsletter_confirm_body": (
            "Hello,\n\n"
            "Someone, probably you, asked to receive the Cloud 7 newsletter at this address. "
            "To confirm, open this link within {days} days and press the button:\n\n{link}\n\n"
            "If you did not ask for it, ignore this e-mail: without confirmation you will "
            "get nothing from us.\n\nCloud 7\n"
        ),
        "newsletter_sent_title": "Please check your e-mail",
        "newsletter_sent": (
            "We have sent you an e-mail with a link. Your subscription starts when you "
            "confirm it there."
        ),
        "newsletter_confirm_title": "Confirm your subscription",
        "newsletter_confirm": "Press the button to receive the Cloud 7 newsletter once a month.",
        "newsletter_confirm_button": "Confirm my subscription",
        "newsletter_confirmed_title": "You are subscribed",
        "newsletter_confirmed": (
            "Thank you. Every newsletter has an unsubscribe link at the bottom."
        ),
        "newsletter_leave_title": "Unsubscribe from the newsletter",
        "newsletter_leave": "Press the button and we will send you no more newsletters.",
        "newsletter_leave_button": "Unsubscribe",
        "newsletter_left_title": "You are unsubscribed",
        "newsletter_left": "We will send you no more newsletters.",
        "link_bad": (
            "This link is not valid or has expired. Subscribe again on the newsletter page."
        ),
        "send_contact": "Send request",
        "send_newsletter": "Subscribe",
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
            "Om automatische berichten te weren: controleer uw gegevens en klik op {button}."
        ),
        "token_fast": (
            "Dat ging wel erg snel. Controleer uw gegevens en klik nogmaals op {button}."
        ),
        "token_old": (
            "Dit formulier stond lang open. Controleer uw gegevens en klik nogmaals op {button}."
        ),
        "token_bad": (
            "Dit formulier kon niet worden gecontroleerd. Controleer uw gegevens en verstuur "
            "het opnieuw."
        ),
        "honeypot": "Uw verzoek kon niet worden aangenomen.",
        "too_many": "U hebt in korte tijd veel verzoeken verstuurd. Probeer het later opnieuw.",
        "too_big": "Uw bericht is te lang om te versturen. Maak het korter.",
        "origin": "Dit formulier kan alleen vanaf onze eigen website worden verstuurd.",
        "newsletter_confirm_subject": "Bevestig uw aanmelding voor de nieuwsbrief van Cloud 7",
        "newsletter_confirm_body": (
            "Hallo,\n\n"
            "Iemand, waarschijnlijk u, heeft gevraagd de nieuwsbrief van Cloud 7 op dit adres "
            "te ontvangen. Open binnen {days} dagen deze link en klik op de knop om dat te "
            "bevestigen:\n\n{link}\n\n"
            "Hebt u dit niet gevraagd, negeer deze e-mail dan: zonder bevestiging krijgt u "
            "niets van ons.\n\nCloud 7\n"
        ),
        "newsletter_sent_title": "Kijk in uw e-mail",
        "newsletter_sent": (
            "We hebben u een e-mail met een link gestuurd. Uw aanmelding gaat in zodra u die "
            "daar bevestigt."
        ),
        "newsletter_confirm_title": "Bevestig uw aanmelding",
        "newsletter_confirm": (
            "Klik op de knop om één keer per maand de nieuwsbrief van Cloud 7 te ontvangen."
        ),
        "newsletter_confirm_button": "Mijn aanmelding bevestigen",
        "newsletter_confirmed_title": "U bent aangemeld",
        "newsletter_confirmed": "Dank u wel. Onderaan elke nieuwsbrief staat een afmeldlink.",
        "newsletter_leave_title": "Afmelden voor de nieuwsbrief",
        "newsletter_leave": "Klik op de knop, dan sturen we u geen nieuwsbrieven meer.",
        "newsletter_leave_button": "Afmelden",
        "newsletter_left_title": "U bent afgemeld",
        "newsletter_left": "We sturen u geen nieuwsbrieven meer.",
        "link_bad": (
            "Deze link is niet geldig of verlopen. Meld u opnieuw aan op de nieuwsbriefpagina."
        ),
        "send_contact": "Verzoek versturen",
        "send_newsletter": "Aanmelden",
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


@functools.cache
def consent_text(lang: str) -> str:
    """The newsletter form's consent words as the form shows them in `lang`."""
    lang = language(lang)
    po = CATALOGS / lang / "LC_MESSAGES" / "messages.po"
    if lang == next(iter(WORDS)) or not po.exists():
        return NEWSLETTER_CONSENT
    from babel.messages.pofile import read_po

    with po.open("rb") as source:
        message = read_po(source, locale=lang).get(NEWSLETTER_CONSENT)
    return message.string if message is not None and message.string else NEWSLETTER_CONSENT
