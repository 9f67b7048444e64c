"""Form helpers every app shares."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core import reveal
from core.masking import restore_masked


class MaskedInputsMixin:
    """An edit form whose ``MASKED_INPUTS`` show the record's values masked as the record's page
    masks them (the model's ``masked_fields``), with the page's audited reveal beside them for
    roles that may reveal (``core/_field.html``): opening the form reads no more than the page.
    A masked value posted back as shown keeps the stored one, a value typed over it is saved,
    and masked text is never saved over a value (``core.masking.restore_masked``).
    The form calls ``mask_inputs(obj, user)`` once its fields are set."""

    MASKED_INPUTS: tuple = ()
    masked_object = None
    masked_inputs: list = []
    revealable: list = []

    def mask_inputs(self, obj, user) -> None:
        self.masked_object = obj
        self.masked_inputs = [name for name in self.MASKED_INPUTS if name in self.fields]
        self.revealable = [name for name in self.masked_inputs
                           if reveal.may_reveal(user, type(obj), name) and getattr(obj, name)]
        for name in self.masked_inputs:
            self.initial[name] = reveal.masked_value(obj, name)
            self.fields[name].help_text = _("Shown masked: leave it as it is to keep it, or type the new value.")

    def clean(self):
        data = super().clean()
        for name in self.masked_inputs:
            if name not in data:
                continue
            mask, _roles = reveal.masked_spec(type(self.masked_object), name)
            try:
                data[name] = restore_masked(data[name], getattr(self.masked_object, name), mask)
            except ValueError:
                self.add_error(name, ValidationError(_(
                    "A masked number was changed: type the whole number, or leave it as shown."), code="masked"))
        return data
