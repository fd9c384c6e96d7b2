from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that the code derives or receives: staff look, never add or edit (a hand edit would
    disagree with what produced the row)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
