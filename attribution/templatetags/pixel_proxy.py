"""`{% pixel_proxy_recipes %}`: the Integrations page's "First-party proxy" section, each recipe rendered
with the current workspace's values (attribution/selectors/pixel_proxy.py)."""

from dataclasses import dataclass

from django import template
from django.template.loader import render_to_string

from attribution.selectors.pixel_proxy import RECIPES, ProxyRecipe, ProxyValues, pixel_proxy_values

register = template.Library()


@dataclass(frozen=True, slots=True)
class RenderedRecipe:
    key: str
    title: str
    where: str
    code: str


def proxy_recipe_render(recipe: ProxyRecipe, values: ProxyValues) -> RenderedRecipe:
    code = render_to_string(recipe.template, {"v": values}).strip() + "\n"
    return RenderedRecipe(recipe.key, recipe.title, recipe.where.replace("{site}", values.site_host), code)


@register.inclusion_tag("attribution/proxy_recipes/section.html", takes_context=True)
def pixel_proxy_recipes(context) -> dict:
    values = pixel_proxy_values(workspace=context["workspace"])
    return {"v": values, "recipes": [proxy_recipe_render(recipe, values) for recipe in RECIPES]}
