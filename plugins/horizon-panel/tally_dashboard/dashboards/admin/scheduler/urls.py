from django.urls import re_path

from tally_dashboard.dashboards.admin.scheduler import views

urlpatterns = [
    re_path(r'^$', views.IndexView.as_view(), name='index'),
]
