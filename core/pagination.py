"""The API's pagination (REST_FRAMEWORK settings), apart from core.api: DRF imports it while
its viewsets module loads."""

from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's, but ``?page=`` (empty) is no page, as the schema says (a number from 1), rather than
    the first: 404 like every other page that does not exist."""

    def get_page_number(self, request, paginator):
        number = request.query_params.get(self.page_query_param)
        return 1 if number is None else number
