from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from portal.accounts import views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.SignUpView.as_view(), name="signup"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/",
         auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/",
         views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("password/reset/done/",
         auth_views.PasswordResetCompleteView.as_view(
             extra_context={"login_url": reverse_lazy("accounts:login")}),
         name="password_reset_complete"),
]
