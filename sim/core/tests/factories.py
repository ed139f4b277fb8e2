import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from sim.core.roles import Role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    first_name = factory.Faker("first_name", locale="sv_SE")
    last_name = factory.Faker("last_name", locale="sv_SE")
    password = factory.django.Password("correct-horse-battery")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            role = Role(extracted)
            self.groups.add(Group.objects.get(name=role.value))
            if role is Role.ADMIN:
                self.is_staff = True
                self.save(update_fields=["is_staff"])
