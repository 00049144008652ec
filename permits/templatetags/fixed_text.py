"""{% fixed %} … {% endfixed %}: a stretch of a template that depends on the language alone
(text, {% translate "…" %} and {% blocktranslate %} without variables), rendered once per
process, language and autoescaping, then given as it was (issue 10).

Each {% translate %} costs Django's engine a lazy text, its translation looked up, then
localised and escaped on every request (about 65,000 instructions, 8 µs: a table's header of
eight columns more than its 25 rows written out in Python). A page's fixed headings, the
headers of its tables and its buttons' words are the same on every request in a language.

Anything inside that could depend on the request (a variable, a filter, a tag other than
these, a translation kept in a variable or with a variable context) is refused when the
template is compiled (TemplateSyntaxError), so that a cached text can never be another
request's. tests/permits/test_fixed_text.py renders the pages that use it with and without
the cache (CACHING) in both languages.
"""

from django import template
from django.template.base import TextNode, TokenType, Variable
from django.template.defaulttags import CommentNode
from django.templatetags.i18n import BlockTranslateNode, TranslateNode
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

register = template.Library()

# Off in tests comparing the cached texts with the plain rendering.
CACHING = True


def _constant_expression(expression):
    """A filter expression that is a literal (a text or a number) without filters."""
    if expression is None:
        return True
    if expression.filters:
        return False
    var = expression.var
    if isinstance(var, Variable):
        return var.literal is not None and var.lookups is None
    return isinstance(var, str)


def _fixed(node):
    """Whether `node` renders the same whatever the context, for one language and
    autoescaping."""
    if isinstance(node, (TextNode, CommentNode, FixedNode)):
        return True
    if isinstance(node, TranslateNode):
        return (node.asvar is None and _constant_expression(node.filter_expression)
                and _constant_expression(node.message_context))
    if isinstance(node, BlockTranslateNode):
        return (node.asvar is None and not node.extra_context and node.counter is None
                and not node.plural
                and all(token.token_type == TokenType.TEXT for token in node.singular)
                and _constant_expression(node.message_context))
    return False


class FixedNode(template.Node):
    child_nodelists = ("nodelist",)

    def __init__(self, nodelist):
        self.nodelist = nodelist
        self.rendered = {}

    def render(self, context):
        if not CACHING:
            return self.nodelist.render(context)
        key = (get_language(), context.autoescape)
        text = self.rendered.get(key)
        if text is None:
            text = self.rendered[key] = mark_safe(  # noqa: S308 (as the nodes rendered it)
                self.nodelist.render(context))
        return text


@register.tag
def fixed(parser, token):
    """{% fixed %}…{% endfixed %}: see the module."""
    if len(token.split_contents()) != 1:
        raise template.TemplateSyntaxError("{% fixed %} takes no arguments")
    nodelist = parser.parse(("endfixed",))
    parser.delete_first_token()
    for node in nodelist:
        if not _fixed(node):
            raise template.TemplateSyntaxError(
                f"{{% fixed %}} holds only text and translations without variables, "
                f"not {node!r}")
    return FixedNode(nodelist)
