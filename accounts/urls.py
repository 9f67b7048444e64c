from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("login/code/", views.LoginTotpView.as_view(), name="login_totp"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("second-factor/", views.TotpSetupView.as_view(), name="totp_setup"),
    path("policy/", views.SecurityPolicyView.as_view(), name="policy"),
    path("users/<int:pk>/password/", views.UserPasswordResetView.as_view(), name="user_password"),
    path("users/<int:pk>/second-factor/reset/", views.UserTotpResetView.as_view(), name="user_totp_reset"),
    path("users/", views.UserListView.as_view(), name="user_list"),
    path("users/new/", views.UserCreateView.as_view(), name="user_create"),
    path("users/<int:pk>/", views.UserDetailView.as_view(), name="user_detail"),
    path("users/<int:pk>/edit/", views.UserEditView.as_view(), name="user_edit"),
    path("users/<int:pk>/roles/", views.UserRolesView.as_view(), name="user_roles"),
    path("member-units/", views.MemberUnitListView.as_view(), name="member_unit_list"),
    path("member-units/new/", views.MemberUnitCreateView.as_view(), name="member_unit_create"),
]
