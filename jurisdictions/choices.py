from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    PROVINCE = "province", _("Province")
    CITY = "city", _("City")
    COUNTY = "county", _("County")
    TOWNSHIP = "township", _("Township")
    VILLAGE = "village", _("Village")
    GRID = "grid", _("Grid")


LEVEL_ORDER = {level: index for index, level in enumerate(Level)}

# Names a ledger may use for a level, besides the English identifier.
LEVEL_SYNONYMS = {
    "省": Level.PROVINCE, "自治区": Level.PROVINCE, "直辖市": Level.PROVINCE,
    "市": Level.CITY, "地级市": Level.CITY, "州": Level.CITY, "盟": Level.CITY,
    "县": Level.COUNTY, "区": Level.COUNTY, "县(区)": Level.COUNTY, "县区": Level.COUNTY, "旗": Level.COUNTY,
    "县级市": Level.COUNTY,
    "乡镇": Level.TOWNSHIP, "乡": Level.TOWNSHIP, "镇": Level.TOWNSHIP, "街道": Level.TOWNSHIP,
    "乡镇(街道)": Level.TOWNSHIP,
    "村": Level.VILLAGE, "社区": Level.VILLAGE, "村(社区)": Level.VILLAGE, "村(居)委会": Level.VILLAGE,
    "网格": Level.GRID,
}
