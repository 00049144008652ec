"""Forms of the shared framework (being written)."""

from django import forms


class QueryForm(forms.Form):
    def filter(self, queryset):
        return queryset
