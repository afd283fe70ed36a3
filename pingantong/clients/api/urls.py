"""API routes of the clients app (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=True)
router.register("clients", views.ClientViewSet, basename="client")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("consents", views.ConsentViewSet, basename="consent")
router.register("applications", views.ApplicationViewSet, basename="application")
router.register("agreements", views.AgreementViewSet, basename="agreement")
router.register("terminations", views.TerminationViewSet, basename="termination")
router.register("frequency-requests", views.FrequencyChangeRequestViewSet, basename="frequency-request")
urlpatterns = router.urls
