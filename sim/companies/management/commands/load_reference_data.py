from django.core.management.base import BaseCommand

from sim.companies.reference_sync import reference_data_sync


class Command(BaseCommand):
    help = "Bring counties, municipalities and SNI codes up to date with the shipped reference data."

    def handle(self, *args, **options):
        counts = reference_data_sync()
        self.stdout.write(
            self.style.SUCCESS(
                "Reference data: {counties} counties, {municipalities} municipalities, {sni_codes} SNI codes.".format(**counts)
            )
        )
