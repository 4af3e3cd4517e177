"""Messages written outside the panel's own gettext calls that the panel shows in the user's language.

fsctl's validation (fsctl.schemas, fsctl.accounts, the tenant file), marshmallow's own messages and
fsctl.media.audio's refusals reach the panel as English text and pass through `tr()` /
`translate_message`. They are listed here with `N_` (gettext's no-op marker) so that
`make translations-update` (pybabel extract) keeps their Japanese in the catalogue.
"""

from __future__ import annotations

from webpanel.i18n import N_

MESSAGES = (
    # marshmallow's own messages, as fsctl's schemas configure them.
    N_("Field may not be null."),
    N_("Missing data for required field."),
    N_("Not a valid date."),
    N_("Not a valid email address."),
    N_("Not a valid integer."),
    N_("Unknown field."),
    N_("Shorter than minimum length 1."),
    N_("Length must be between 1 and 100."),
    N_("Length must be between 1 and 200."),
    N_("Must be greater than or equal to 1 and less than or equal to 10."),
    N_("Must be greater than or equal to 1 and less than or equal to 60."),
    N_("Must be greater than or equal to 5 and less than or equal to 300."),
    N_("Must be greater than or equal to 5 and less than or equal to 600."),
    N_("Must be one of: both, inbound_only, outbound_only."),
    # fsctl.schemas and the tenant file.
    N_("4 to 12 digits"),
    N_("HH:MM, 00:00 to 24:00"),
    N_("a range such as 700-719"),
    N_("a ring group needs at least one member"),
    N_("a schedule cannot lead to another schedule"),
    N_("digits only (an optional leading +)"),
    N_("ends before it starts"),
    N_("from and to are equal (use 00:00-24:00 for all day)"),
    N_("give exactly one of user, voicemail, ring_group, ivr, schedule, external, announcement, hangup"),
    N_("letters, digits, _ . - (up to 64)"),
    N_("must be 10 to 128 characters"),
    N_("must be 2 to 6 digits, not starting with 0"),
    N_("must not be all digits"),
    N_("must not contain control characters (tab, line break, ...)"),
    # fsctl.accounts (passwords) and the panel's own account forms.
    N_("must be at least 10 characters"),
    N_("must mix letters with digits or symbols"),
    N_("wrong password"),
    N_("an account with this e-mail address already exists"),
    N_("digits, spaces, + - ( ) only"),
    # fsctl.media.audio's refusals of an upload.
    N_("not a WAV or MP3 file"),
    N_("the file is empty"),
    N_("the recording is shorter than 0.2 seconds"),
    # caller screening (fsctl.screening.schema)
    N_("a number (digits, or + and digits), with * at the end for a prefix"),
    N_("announce or reject"),
    N_("withheld, payphone or unavailable"),
)
