"""Factories of the competence app.

``ConceptFactory`` makes an occupation by default (``kind="skill"`` or :class:`SkillFactory` for a
skill), with a URI in our namespace and Swedish and English labels; ``broader`` takes a list of
concepts::

    weld = SkillFactory(preferred_label_sv="Svetsning", alt_labels_sv=["svetsa"])
    mig = SkillFactory(preferred_label_sv="MIG/MAG-svetsning", broader=[weld])

For the shipped default taxonomy in a test use :func:`load_default_taxonomy` (about a second).
"""

from __future__ import annotations

import factory

from sim.competence import taxonomy
from sim.competence.models import Concept


class ConceptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Concept
        skip_postgeneration_save = True

    kind = taxonomy.OCCUPATION
    uri = factory.Sequence(lambda n: f"{taxonomy.DEFAULT_NAMESPACE}test/concept-{n}")
    preferred_label_sv = factory.Sequence(lambda n: f"Testyrke {n}")
    preferred_label_en = factory.Sequence(lambda n: f"Test occupation {n}")
    alt_labels_sv = factory.LazyFunction(list)
    alt_labels_en = factory.LazyFunction(list)
    description_sv = ""
    description_en = ""
    source = "default"
    active = True

    @factory.post_generation
    def broader(self, create, extracted, **kwargs):
        if create and extracted:
            self.broader.set(extracted)


class OccupationFactory(ConceptFactory):
    kind = taxonomy.OCCUPATION


class SkillFactory(ConceptFactory):
    kind = taxonomy.SKILL
    preferred_label_sv = factory.Sequence(lambda n: f"Testkompetens {n}")
    preferred_label_en = factory.Sequence(lambda n: f"Test skill {n}")


def load_default_taxonomy() -> dict[str, int]:
    """Load the shipped default taxonomy (as the demo does; audited with the source "system")."""
    from sim.competence.services_taxonomy import default_taxonomy_sync

    return default_taxonomy_sync()
