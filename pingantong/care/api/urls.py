"""API routes of the care app (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=True)
router.register("care/tasks", views.TaskViewSet, basename="care-task")
router.register("care/calls", views.CareCallViewSet, basename="care-call")
router.register("care/visits", views.VisitViewSet, basename="care-visit")
router.register("care/life-signs", views.LifeSignViewSet, basename="care-life-sign")
router.register("care/coverage", views.CoverageViewSet, basename="care-coverage")
router.register("care/counselling", views.CounsellingSessionViewSet, basename="care-counselling")
router.register("care/intervention-flags", views.InterventionFlagViewSet, basename="care-intervention-flag")
router.register("care/referrals", views.ReferralViewSet, basename="care-referral")
router.register("care/partners", views.PartnerOrganisationViewSet, basename="care-partner")
router.register("care/directory", views.DirectoryEntryViewSet, basename="care-directory")
router.register("care/activities", views.ActivityViewSet, basename="care-activity")
urlpatterns = router.urls
