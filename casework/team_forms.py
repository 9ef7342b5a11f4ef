"""Forms of the team pages: a team's name, who is in it, which cases it holds."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import StaffMember, Team
from casework.models import Case

# A team's name is stored in the clear (the server needs no key to show it on the staff and
# team pages, to anyone on duty). A name that says where the organisation works would tell a
# seized database more than the cases do, so names of the regions people write from are
# refused; the help text asks for a neutral label. Lower-case stems, Latin and Cyrillic.
_PLACE_STEMS = (
    "chechn",
    "чечн",
    "grozn",
    "грозн",
    "caucas",
    "kavkaz",
    "кавказ",
    "dagestan",
    "дагестан",
    "ingush",
    "ингуш",
    "moscow",
    "moskv",
    "москв",
    "petersburg",
    "peterburg",
    "петербург",
    "питер",
    "spb",
    "спб",
)


class TeamForm(forms.Form):
    name = forms.CharField(
        label=_("Team name"),
        max_length=80,
        help_text=_("Stored without encryption: use a neutral label (“Team B”), never a place or a person's name."),
        error_messages={
            "required": _("Give the team a name."),
            "max_length": _("The name is too long (at most 80 characters)."),
        },
    )

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        lowered = name.casefold()
        if any(stem in lowered for stem in _PLACE_STEMS):
            raise forms.ValidationError(_("Do not name a place: the team name is stored without encryption."))
        return name


class _MemberChoice(forms.ModelChoiceField):  # type: ignore[type-arg]  # generic only in the stubs: not subscriptable at run time
    def label_from_instance(self, obj: StaffMember) -> str:
        return f"{obj.username} ({obj.get_role_display()})"


class TeamMemberForm(forms.Form):
    member = _MemberChoice(
        label=_("Add someone to the team"),
        queryset=StaffMember.objects.none(),
        error_messages={
            "required": _("Choose someone to add."),
            "invalid_choice": _("This person cannot be added to the team."),
        },
    )

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(_MemberChoice, self.fields["member"]).queryset = (  # declared above
            StaffMember.objects.filter(is_active=True).exclude(teams=team).order_by("username")
        )


class _CaseChoice(forms.ModelChoiceField):  # type: ignore[type-arg]  # generic only in the stubs: not subscriptable at run time
    def label_from_instance(self, obj: Case) -> str:
        return f"{obj.public_id} ({obj.get_urgency_display()}, {obj.created_at:%Y-%m-%d})"


class CaseTeamForm(forms.Form):
    """Which case to move to the team: by reference, from the cases of other teams."""

    case = _CaseChoice(
        label=_("Move a case to this team"),
        queryset=Case.objects.none(),
        to_field_name="public_id",
        error_messages={
            "required": _("Choose a case."),
            "invalid_choice": _("This case cannot be moved to the team."),
        },
    )

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(_CaseChoice, self.fields["case"]).queryset = (  # declared above
            Case.objects.exclude(team=team).order_by("-created_at")
        )
