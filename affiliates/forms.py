from django import forms


class ApplicationForm(forms.Form):
    name = forms.CharField(max_length=120)
    email = forms.EmailField(max_length=254)
    note = forms.CharField(
        label="How will you promote us?", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
