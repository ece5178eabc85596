from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import SetPasswordMixin
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError


class FirstOperatorForm(SetPasswordMixin, forms.Form):
    username = get_user_model()._meta.get_field("username").formfield()
    email = forms.EmailField(required=False, help_text="Optional: for password resets by another operator.")
    password1, password2 = SetPasswordMixin.create_password_fields()
    be_agent = forms.BooleanField(required=False, initial=True, label="Also answer chats with this account (an agent)")
    agent_name = forms.CharField(
        max_length=150, required=False, label="Name customers see", help_text="Empty: the username."
    )
    queue = forms.CharField(
        max_length=100, initial="default", required=False, label="First queue", help_text="Created if missing."
    )

    def clean_username(self) -> str:
        # Agents may exist before the first operator (create_agent); their accounts stay theirs.
        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise ValidationError("A user with that username already exists.", code="unique")
        return username

    def clean(self) -> dict:
        cleaned = super().clean()
        self.validate_passwords()
        if cleaned.get("be_agent") and not cleaned.get("queue"):
            self.add_error("queue", "An agent needs a queue.")
        if cleaned.get("password2") and "password2" not in self.errors:
            first, _, last = cleaned.get("agent_name", "").partition(" ")
            user = get_user_model()(username=cleaned.get("username", ""), email=cleaned.get("email", ""))
            user.first_name, user.last_name = first, last
            try:
                validate_password(cleaned["password2"], user)
            except ValidationError as error:
                self.add_error("password2", error)
        return cleaned
