from tests.testproc.procedure import ENTRY

app_name = "testproc"
urlpatterns = [*ENTRY.urls()]
