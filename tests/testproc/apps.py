from django.apps import AppConfig

DOCUMENT_TYPE = "TP"


class TestProcedureConfig(AppConfig):
    name = "tests.testproc"
    label = "testproc"

    def ready(self):
        from permits import entry, procedures
        from tests.testproc import procedure

        procedures.register(procedure.PROCEDURE)
        entry.register(procedure.ENTRY)
