"""The words of the command line, Chinese by default (its users are Chinese officials).

The same shape as the maps' catalogue (:mod:`gridsvc.maps.labels`): a key gives
``{"zh": ..., "en": ...}``; words both share (level names, "合计") come from the
maps' catalogue. The language is chosen at import, because typer reads every
``help=`` when the commands are declared: ``--lang zh|en`` anywhere on the
command line, else ``GRIDSVC_LANG`` (read from the environment directly, not
through Settings, so ``--help`` stays instant), else Chinese. The root
callback and the commands with their own ``--lang`` set it again.

This module imports nothing heavy: only :mod:`gridsvc.maps.labels`, which imports
only :mod:`gridsvc.core.errors`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from gridsvc.maps.labels import _TEXT as MAP_TEXT
from gridsvc.maps.labels import LANGS, check_lang

if TYPE_CHECKING:
    from gridsvc.core.errors import GridsvcError

# fmt: off
TEXT: dict[str, dict[str, str]] = {
    # the root and what every command shares (__init__.py, context.py)
    "app_help": {"zh": "gridsvc：网格化管理服务（网格、案件、属地管理清单、考核）。", "en": "gridsvc: the grid-management (网格化管理) service."},
    "lang_help": {"zh": "提示语言：zh（中文，默认）或 en；也可设环境变量 GRIDSVC_LANG", "en": "language of the messages: zh (default) or en; or set GRIDSVC_LANG"},
    "os_error": {"zh": "文件读写失败", "en": "file error"},
    "col_kind": {"zh": "问题类型", "en": "kind"},
    "col_codes": {"zh": "编码", "en": "codes"},
    "col_where": {"zh": "位置（经度, 纬度）", "en": "where (lon, lat)"},
    "col_m2": {"zh": "面积 m²", "en": "m²"},
    "col_blocks": {"zh": "阻止发布", "en": "blocks"},
    "col_message": {"zh": "说明", "en": "message"},
    "yes": {"zh": "是", "en": "yes"},
    "no": {"zh": "否", "en": "no"},
    "no_caps": {"zh": "不一致", "en": "NO"},
    "db_copy_help": {
        "zh": "把整个部署复制到一个空数据库（乡镇迁到 PostgreSQL）；两边每张表的校验和都会比对",
        "en": "Copy a whole deployment into an empty database (a town moving up to "
        "PostgreSQL); every table's digest is compared on both sides",
    },
    "db_copy_source": {
        "zh": "要复制的数据库，例如 sqlite:///var/gridsvc.db",
        "en": "the database to copy, e.g. sqlite:///var/gridsvc.db",
    },
    "db_copy_target": {
        "zh": "一个空数据库，例如 postgresql+psycopg://gridsvc@db/gridsvc",
        "en": "an empty database, e.g. postgresql+psycopg://gridsvc@db/gridsvc",
    },
    "col_table": {"zh": "表", "en": "table"},
    "col_rows": {"zh": "行数", "en": "rows"},
    "col_source_digest": {"zh": "源校验和", "en": "source digest"},
    "col_target_digest": {"zh": "目标校验和", "en": "target digest"},
    "col_same": {"zh": "一致", "en": "same"},
    "db_copy_differs": {
        "zh": "复制结果与源数据库不一致（见标为“不一致”的表）",
        "en": "the copy differs from its source in the tables marked NO",
    },
    "db_copied": {
        "zh": "已复制 {tables} 张表共 {rows} 行；两边一致",
        "en": "copied {rows} rows in {tables} tables; both sides agree",
    },
    "opt_layer": {"zh": "GeoPackage 中的图层名", "en": "layer name inside a GeoPackage"},
    "opt_code_field": {"zh": "存放要素编码的字段", "en": "field holding the feature code"},
    "opt_name_field": {"zh": "存放要素名称的字段", "en": "field holding the feature name"},
    "opt_parent_field": {"zh": "存放上级编码的字段", "en": "field holding the parent's code"},
    "opt_encoding": {"zh": "属性编码，例如 GBK", "en": "attribute encoding, e.g. GBK"},
    "opt_file_crs": {"zh": "文件未声明坐标系时使用的坐标系", "en": "CRS when the file declares none"},
    "kind_invalid-geometry": {"zh": "几何无效", "en": "invalid-geometry"},
    "kind_gap": {"zh": "缝隙", "en": "gap"},
    "kind_overlap": {"zh": "重叠", "en": "overlap"},
    "kind_unmatched-edge": {"zh": "边界不吻合", "en": "unmatched-edge"},
    "kind_crosses-parent": {"zh": "跨越上级边界", "en": "crosses-parent"},
    "kind_outside-parent": {"zh": "超出上级范围", "en": "outside-parent"},
    "kind_duplicate-code": {"zh": "编码重复", "en": "duplicate-code"},
    "kind_missing-code": {"zh": "缺少编码", "en": "missing-code"},
    "kind_unknown-parent": {"zh": "上级编码不存在", "en": "unknown-parent"},
    "kind_missing-crs": {"zh": "缺少坐标系", "en": "missing-crs"},
    "kind_wrong-geometry-type": {"zh": "几何类型不符", "en": "wrong-geometry-type"},
    "kind_empty-geometry": {"zh": "几何为空", "en": "empty-geometry"},
    "kind_sliver": {"zh": "细碎缝隙", "en": "sliver"},
    "status_draft": {"zh": "草案", "en": "draft"},
    "status_published": {"zh": "已发布", "en": "published"},
    "status_retired": {"zh": "已停用", "en": "retired"},
    "arg_kind": {"zh": "哪个图层（层级）", "en": "which layer"},
    "arg_draft": {"zh": "草案的版本号", "en": "the draft's version id"},
    # level names the maps' catalogue lacks (the others: units, grids, committees, cells, jurisdiction)
    "street_segments": {"zh": "道路段", "en": "streets"},
    # typer's own words on the help pages (root.py); the English ones are typer's
    "typer_arguments": {"zh": "参数", "en": "Arguments"},
    "typer_options": {"zh": "选项", "en": "Options"},
    "typer_commands": {"zh": "命令", "en": "Commands"},
    "typer_error": {"zh": "错误", "en": "Error"},
    "typer_aborted": {"zh": "已中止。", "en": "Aborted."},
    "typer_default": {"zh": "[默认：{}]", "en": "[default: {}]"},
    "typer_required": {"zh": "[必填]", "en": "[required]"},
    "typer_envvar": {"zh": "[环境变量：{}]", "en": "[env var: {}]"},
    "typer_try_help": {"zh": "输入 [blue]'{command_path} {help_option}'[/] 查看帮助。", "en": "Try [blue]'{command_path} {help_option}'[/] for help."},
    "usage_missing_argument": {"zh": "缺少参数 {name}。", "en": "Missing argument {name}."},
    "usage_missing_option": {"zh": "缺少选项 {name}。", "en": "Missing option {name}."},
    "usage_no_such_option": {"zh": "没有选项 {name}", "en": "No such option: {name}"},
    "usage_did_you_mean": {"zh": "（是否要用 {names}？）", "en": " Did you mean {names}?"},
    "usage_possible": {"zh": "（可用的选项：{names}）", "en": " (Possible options: {names})"},
    "usage_no_such_command": {"zh": "没有命令 {name}", "en": "No such command {name}."},
    "usage_invalid_value": {"zh": "{name} 的值无效：{detail}", "en": "Invalid value for {name}: {detail}"},
    "usage_not_one_of": {"zh": "{value} 不是以下之一：{choices}。", "en": "Value error, {value} is not one of {choices}."},
    "usage_extra": {"zh": "多余的参数（{args}）", "en": "Got unexpected extra argument(s) ({args})"},
    "usage_needs_value": {"zh": "选项 {name} 需要一个值。", "en": "Option {name} requires an argument."},
    "usage_missing_command": {"zh": "缺少命令。", "en": "Missing command."},
    "usage_integer": {"zh": "应为整数", "en": "Input should be a valid integer, unable to parse string as an integer"},
    "usage_number": {"zh": "应为数字", "en": "Input should be a valid number, unable to parse string as a number"},
    "usage_at_least": {"zh": "应不小于 {limit}", "en": "Input should be greater than or equal to {limit}"},
    "usage_at_most": {"zh": "应不大于 {limit}", "en": "Input should be less than or equal to {limit}"},
    # validate, layers (layers.py)
    "validate_help": {"zh": "检查图层文件：几何、编码、缝隙与重叠、是否嵌套在上级之内。", "en": "Check a layer file: geometry, codes, gaps and overlaps, nesting in its parent."},
    "validate_file": {"zh": "图层文件：GeoJSON、GeoPackage、Shapefile（.shp/.zip）、FlatGeobuf", "en": "layer file: GeoJSON, GeoPackage, Shapefile (.shp/.zip), FlatGeobuf"},
    "validate_kind": {"zh": "文件中是哪一层级", "en": "which level the file holds"},
    "validate_parent": {"zh": "上级层级的文件，用于检查嵌套", "en": "the parent level's file, to check nesting"},
    "validated": {"zh": "{file}：{features} 个{kind}要素，{problems} 个问题，其中 {blocking} 个阻止发布", "en": "{file}: {features} {kind} feature(s), {problems} problem(s), {blocking} blocking"},
    "layers_help": {"zh": "图层版本：历史、导出、草案、影响、发布与回退", "en": "layer versions: history, export, drafts, impact, publish and rollback"},
    "history_help": {"zh": "图层的所有版本，最新的在前。", "en": "Every version of a layer, newest first."},
    "history_town": {"zh": "只列这个街镇的规划员发布的版本（街镇编码）", "en": "only the versions this town's planner made (the town's code)"},
    "district_version": {"zh": "区", "en": "district"},
    "col_id": {"zh": "编号", "en": "id"},
    "col_label": {"zh": "说明", "en": "label"},
    "col_status": {"zh": "状态", "en": "status"},
    "col_features": {"zh": "要素数", "en": "features"},
    "col_created": {"zh": "创建时间", "en": "created"},
    "col_published": {"zh": "发布时间", "en": "published"},
    "col_retired": {"zh": "停用时间", "en": "retired"},
    "export_help": {"zh": "把图层的一个版本写成 GeoPackage，供 QGIS 使用。", "en": "Write a layer version to a GeoPackage for QGIS."},
    "export_out": {"zh": "要写入的 GeoPackage 文件", "en": "the GeoPackage to write"},
    "export_version": {"zh": "版本号（默认：现行版本）", "en": "a version id (default: the active one)"},
    "wrote": {"zh": "已写入 {path}", "en": "wrote {path}"},
    "upload_help": {"zh": "把调整后的图层存为草案，并显示校验结果。", "en": "Store a redrawn layer as a draft and show its validation."},
    "upload_file": {"zh": "GeoJSON、GeoPackage、压缩的 Shapefile 或 FlatGeobuf", "en": "GeoJSON, GeoPackage, zipped Shapefile or FlatGeobuf"},
    "upload_label": {"zh": "这次调整是什么", "en": "what the redraw is"},
    "upload_repair": {"zh": "要做的修复：make_valid、snap、close_slivers", "en": "repairs to apply: make_valid, snap, close_slivers"},
    "repaired": {"zh": "已修复 {code}：{repair}（{detail}）", "en": "repaired {code}: {repair} ({detail})"},
    "draft_stored": {"zh": "草案 {draft}：{features} 个要素，{blocking} 个阻止发布的问题", "en": "draft {draft}: {features} feature(s), {blocking} blocking problem(s)"},
    "layers_validate_help": {"zh": "草案的校验报告；有阻止发布的问题时退出码为 1。", "en": "A draft's validation report; exit code 1 when something blocks publication."},
    "draft_checked": {"zh": "草案 {draft}：{problems} 个问题，其中 {blocking} 个阻止发布", "en": "draft {draft}: {problems} problem(s), {blocking} blocking"},
    "impact_help": {"zh": "发布草案会改变什么：变动的要素和改变归属的案件。", "en": "What publishing a draft would change: features and cases that move."},
    "col_case": {"zh": "案件", "en": "case"},
    "col_from_grid": {"zh": "原网格", "en": "from grid"},
    "col_to_grid": {"zh": "新网格", "en": "to grid"},
    "col_from_team": {"zh": "原工作站", "en": "from team"},
    "col_to_team": {"zh": "新工作站", "en": "to team"},
    "cases_that_move": {"zh": "改变归属的案件", "en": "cases that move"},
    "cases_move": {"zh": "已检查 {checked} 件案件，其中 {moved} 件改变归属", "en": "{moved} of {checked} cases move"},
    "feature_changes": {"zh": "新增 {added}，删除 {removed}，变动 {changed}", "en": "added {added}, removed {removed}, changed {changed}"},
    "added": {"zh": "新增", "en": "added"},
    "removed": {"zh": "删除", "en": "removed"},
    "col_code": {"zh": "编码", "en": "code"},
    "col_area_change": {"zh": "面积变化 m²", "en": "area change m²"},
    "col_perimeter_change": {"zh": "周长变化 m", "en": "perimeter change m"},
    "col_shape": {"zh": "形状", "en": "shape"},
    "col_attributes": {"zh": "属性", "en": "attributes"},
    "changed": {"zh": "有变动", "en": "changed"},
    "publish_help": {"zh": "发布草案；被它改变归属的在办案件重新分派。", "en": "Publish a draft; open cases it moves are reassigned."},
    "publish_active": {"zh": "预览时对照的现行版本号（默认：显示影响并询问）", "en": "the active version id you previewed against (default: show the impact, ask)"},
    "publish_yes": {"zh": "不询问，直接发布", "en": "publish without asking"},
    "publish_question": {"zh": "发布草案 {draft}，替换现行版本 {active}，重新分派 {moving} 件在办案件？", "en": "publish draft {draft} over version {active}, reassigning {moving} open case(s)?"},
    "published": {"zh": "已发布版本 {published}，停用版本 {retired}，重新分派 {reassigned} 件案件", "en": "published version {published}, retired {retired}, reassigned {reassigned} case(s)"},
    "rollback_help": {"zh": "回退：把上一个版本重新设为现行版本（作为新版本）。", "en": "Make the previous version active again (as a new version)."},
    "rollback_active": {"zh": "要替换的现行版本号（默认：询问）", "en": "the active version id you mean to replace (default: ask)"},
    "rollback_yes": {"zh": "不询问，直接回退", "en": "roll back without asking"},
    "rollback_question": {"zh": "用上一个版本替换现行的{kind}版本 {active}？", "en": "replace the active {kind} version {active} by the one before it?"},
    "rolled_back": {"zh": "已把版本 {restored} 恢复为版本 {published}；重新分派 {reassigned} 件案件", "en": "restored version {restored} as version {published}; reassigned {reassigned}"},
    "not_changed": {"zh": "未做任何改动；加 --yes（或 --active 版本号）可不经询问直接执行", "en": "nothing was changed; give --yes (or --active ID) to go ahead without asking"},
    # demo (demo.py)
    "demo_help": {"zh": "示范镇", "en": "the demo town 示范镇"},
    "demo_load_help": {"zh": "把示范镇（图层、工作站、部门、清单、历史案件）装入数据库，只装一次。", "en": "Put the demo town (layers, teams, departments, lists, history) into the database, once."},
    "demo_history": {"zh": "同时把一年的历史上报导入为案件", "en": "also import the year of historical reports as cases"},
    "demo_keys_help": {"zh": "每个角色一把新的试用密钥（上次的示范密钥作废）；在网址的登录处或该角色打开的页面粘贴密钥。", "en": "One fresh key per role for trying the demo (the previous demo keys are revoked); paste a key at the URL's sign-in, or into the page the role opens."},
    "demo_url": {"zh": "服务的地址", "en": "where the service answers"},
    "demo_already": {"zh": "数据库中已有城镇，未装入任何内容", "en": "the database already holds a town; nothing loaded"},
    "demo_holidays": {"zh": "注意：holidays.csv 中没有 {day} 之后的日子；此后的期限把每个周一至周五都算作工作日", "en": "note: holidays.csv lists no day after {day}; deadlines past it count every Monday to Friday as a working day"},
    "demo_loaded": {"zh": "已装入{name}：{layers} 个图层，{matters} 个事项，{cases} 件历史案件{last}", "en": "loaded the demo {name}: {layers} layers, {matters} matters, {cases} historical cases{last}"},
    "demo_last": {"zh": "，最后一件上报于 {last}", "en": ", the last reported on {last}"},
    "demo_open": {"zh": "打开 {url}/ 并粘贴密钥登录：", "en": "open {url}/ and paste a key to sign in:"},
    # keys (keys.py)
    "keys_help": {"zh": "各角色的 API 密钥：创建、列出、作废", "en": "API keys per role: create, list, revoke"},
    "keys_create_help": {"zh": "创建 API 密钥；密钥只显示这一次，库里只存它的散列值。", "en": "Create an API key; it is printed once and only its hash is stored."},
    "keys_role": {"zh": "角色：patrol（网格员）、dispatcher（调度员）、handler（处置部门）、planner（规划员）、leader（领导）或 admin（管理员）", "en": "patrol, dispatcher, handler, planner, leader or admin"},
    "keys_name": {"zh": "密钥持有人，例如网格员编号", "en": "who holds the key, e.g. a patrol's id"},
    "keys_department": {"zh": "处置部门的密钥：部门编码", "en": "handler keys: the department code"},
    "keys_grid": {"zh": "网格员的密钥：所巡查网格的编码（手机端显示我的网格）", "en": "patrol keys: the grid code the patrol walks (my grid in the app)"},
    "keys_town": {"zh": "只管一个街镇的密钥：街镇编码（不给则看全区）", "en": "a key scoped to one town: the town's code (without it, the whole district)"},
    "keys_list_help": {"zh": "谁持有密钥：编号、角色、部门、创建和作废时间（从不显示密钥本身）。", "en": "Who holds a key: id, role, department, created and revoked (never the key itself)."},
    "keys_revoked": {"zh": "也列出已作废的密钥", "en": "also list revoked keys"},
    "col_name": {"zh": "持有人", "en": "name"},
    "col_role": {"zh": "角色", "en": "role"},
    "col_department": {"zh": "部门", "en": "department"},
    "col_town": {"zh": "街镇", "en": "town"},
    "col_revoked": {"zh": "作废时间", "en": "revoked"},
    "keys_revoke_help": {"zh": "作废密钥：30 秒内在所有服务器上失效。", "en": "Revoke a key: it stops working within 30 s on every server."},
    "keys_id": {"zh": "密钥编号（见 gridsvc keys list）", "en": "the key's id (gridsvc keys list)"},
    "key_revoked": {"zh": "已作废密钥 {key_id}", "en": "revoked key {key_id}"},
    # list (lists.py)
    "list_help": {"zh": "属地管理清单：版本", "en": "the responsibility list 属地管理清单: versions"},
    "list_history_help": {"zh": "属地管理清单的所有版本，最新的在前。", "en": "Every version of the responsibility list, newest first."},
    "col_matters": {"zh": "事项数", "en": "matters"},
    "list_upload_help": {"zh": "把新的属地管理清单存为草案，并显示它改变了什么。", "en": "Store a new responsibility list as a draft and show what it changes."},
    "list_file": {"zh": "清单的 CSV 文件（UTF-8 或 GBK）", "en": "the list as CSV (UTF-8 or GBK)"},
    "list_label": {"zh": "改了什么", "en": "what changed"},
    "list_draft": {"zh": "草案 {draft}：{matters} 个事项（现行清单：{active}）", "en": "draft {draft}: {matters} matters (published list: {active})"},
    "list_added_removed": {"zh": "  新增 {added}；删除 {removed}", "en": "  added {added}; removed {removed}"},
    "list_changed": {"zh": "  变动 {code}：{fields}", "en": "  changed {code}: {fields}"},
    "list_publish_help": {"zh": "发布清单草案（运行中的服务在 GRIDSVC_VERSION_POLL_S 秒内启用）。", "en": "Publish a draft list (running services pick it up within GRIDSVC_VERSION_POLL_S)."},
    "list_active": {"zh": "对照过的现行版本号", "en": "the published version you compared against"},
    "list_published": {"zh": "已发布清单版本 {published}（停用 {retired}）", "en": "published list version {published} (retired {retired})"},
    # map (maps.py)
    "map_help": {"zh": "地图（folium）：网格覆盖、案件热点、网格调整影响", "en": "maps (folium): coverage, hotspots, redraw impact"},
    "map_lang": {"zh": "地图与提示的语言：zh（默认）或 en", "en": "language of the map and the messages: zh (default) or en"},
    "map_basemap": {"zh": "底图：none、osm、tianditu（天地图）、amap（高德，GCJ-02）或 intranet（内网）", "en": "none, osm, tianditu, amap (GCJ-02) or intranet"},
    "map_out": {"zh": "要写入的 HTML 文件（static/ 放在它旁边）", "en": "the HTML file to write (static/ goes beside it)"},
    "map_written": {"zh": "已写入 {path}（服务上的地址 {url}，{who}登录后可打开）", "en": "wrote {path}  (served at {url} to {who}, after signing in)"},
    "map_viewers": {"zh": "领导、调度员、规划员和处置部门", "en": "leaders, dispatchers, planners and handlers"},
    "map_planners": {"zh": "规划员和管理员", "en": "planners and admins"},
    "coverage_help": {"zh": "按责任工作站着色的网格、基本管理单元、居村委和道路，带中文标注。", "en": "Grids by responsible team, units, committees and streets, with Chinese labels."},
    "coverage_status": {"zh": "正在生成网格覆盖图…", "en": "building the coverage map…"},
    "hotspots_help": {"zh": "案件数、每平方公里案件数、Gi* 冷热点、热力图和时间视图。", "en": "Case counts, rate per km², Gi* hot and cold spots, heat and the time view."},
    "hot_category": {"zh": "类别编码", "en": "a category code"},
    "hot_field": {"zh": "属地管理清单的领域", "en": "a field of the responsibility list"},
    "hot_status": {"zh": "案件状态，或 open（在办）", "en": "a status, or 'open'"},
    "hot_unit": {"zh": "基本管理单元编码", "en": "a basic management unit code"},
    "hot_team": {"zh": "工作站编码", "en": "a team code"},
    "hot_from": {"zh": "起始日（2026-05-01）或时间", "en": "first day (2026-05-01) or time"},
    "hot_to": {"zh": "截止日（含当天）或时间", "en": "last day (inclusive) or time"},
    "hot_period": {"zh": "时间视图：按 month（月）或 week（周）", "en": "time view by month or week"},
    "hotspots_status": {"zh": "正在读取案件并生成热点图（Gi*、热力、时段）…", "en": "reading the cases and building the hotspot map (Gi*, heat, periods)…"},
    "map_impact_help": {"zh": "现行边界与调整后边界的对比，以及草案会改变归属的案件。", "en": "Current against redrawn boundaries, with the cases the draft would move."},
    "impact_status": {"zh": "正在按草案重新匹配案件并生成地图…", "en": "re-matching the cases under the draft and building the map…"},
    # match (match.py)
    "match_help": {"zh": "把文件中的每个点匹配到网格、基本管理单元、居村委、道路和工作站。", "en": "Match every point of a file to its grid, unit, committee, street and team."},
    "match_input": {"zh": "点位文件：CSV、GeoJSON、GeoPackage 或 Parquet", "en": "points: CSV, GeoJSON, GeoPackage or Parquet"},
    "match_out": {"zh": "结果文件：.csv、.geojson、.gpkg 或 .parquet", "en": "result: .csv, .geojson, .gpkg or .parquet"},
    "match_grids": {"zh": "责任网格图层文件（默认：配置的城镇）", "en": "grid layer file (default: the configured town)"},
    "match_units": {"zh": "基本管理单元图层文件", "en": "basic management unit layer file"},
    "match_committees": {"zh": "居村委图层文件", "en": "residents' committee layer file"},
    "match_jurisdiction": {"zh": "辖区文件（默认：网格的并集）", "en": "jurisdiction file (default: union of the grids)"},
    "match_streets": {"zh": "道路段图层文件", "en": "street segment layer file"},
    "match_crs": {"zh": "点位坐标系：wgs84、cgcs2000、gcj02、bd09 或 EPSG:N", "en": "input CRS: wgs84, cgcs2000, gcj02, bd09 or EPSG:N"},
    "match_crs_col": {"zh": "写明每行坐标系的列（默认：crs 列）", "en": "column naming each row's CRS (default: a 'crs' column)"},
    "match_lon_col": {"zh": "CSV 中的经度 / x 列", "en": "CSV column holding longitude / x"},
    "match_lat_col": {"zh": "CSV 中的纬度 / y 列", "en": "CSV column holding latitude / y"},
    "match_code_field": {"zh": "图层文件中的编码字段", "en": "code field in the layer files"},
    "match_name_field": {"zh": "图层文件中的名称字段", "en": "name field in the layer files"},
    "match_layer": {"zh": "含多个图层的 GeoPackage 中的图层：NAME 指网格文件的，KIND=NAME 指其他文件的（如 streets=roads）；可重复", "en": "layer of a GeoPackage with several: NAME for the grids file, KIND=NAME for another (streets=roads); repeatable"},
    "match_layer_crs": {"zh": "未声明坐标系的图层文件的坐标系（如 EPSG:4549）", "en": "CRS of the layer files that declare none (e.g. EPSG:4549)"},
    "match_radius": {"zh": "最近道路的搜索半径（米）", "en": "nearest-street radius in metres"},
    "matching": {"zh": "匹配中", "en": "matching"},
    "col_points": {"zh": "点数", "en": "points"},
    "matched": {"zh": "已匹配", "en": "matched"},
    "outside": {"zh": "辖区外", "en": "outside"},
    "invalid": {"zh": "无效", "en": "invalid"},
    "match_rate": {"zh": "{points} 个点，用时 {seconds} 秒（每秒 {rate} 个点）", "en": "{points} points in {seconds} s ({rate} points/s)"},
    # report (report.py)
    "report_help": {"zh": "报表：考核", "en": "reports: evaluation (考核)"},
    "evaluation_help": {"zh": "一个时段的考核，按网格、工作站、部门、工作组、类别或基本管理单元。", "en": "The evaluation (考核) of a period per grid, team, department, group, category or unit."},
    "eval_out": {"zh": "要写入的文件：.csv 或 .xlsx", "en": "the file to write: .csv or .xlsx"},
    "eval_from": {"zh": "起始日 YYYY-MM-DD（默认：上个月第一天）", "en": "first day, YYYY-MM-DD (default: last month's first)"},
    "eval_to": {"zh": "截止日（含当天）YYYY-MM-DD（默认：上个月最后一天）", "en": "last day (included), YYYY-MM-DD (default: last month's last)"},
    "eval_by": {"zh": "分组：grid（网格）、team（工作站）、department（部门）、group（工作组）、category（类别）或 unit（基本管理单元）", "en": "grid, team, department, group, category or unit"},
    "eval_lang": {"zh": "名称、表头与提示的语言：zh 或 en", "en": "names, headers and messages: zh or en"},
    "eval_min_cases": {"zh": "参与排名所需的应结案件数", "en": "due cases a group needs to be ranked"},
    "eval_line_score": {"zh": "CODE=SCORE：部门的条线考核分（仅按部门时）", "en": "CODE=SCORE: a department's line assessment (by department)"},
    "eval_written": {"zh": "已写入 {path}（{first} 至 {last}）：{rows} 行（按{by}），{ranked} 行参与排名（至少 {min_cases} 件应结案件）；应结案件 {due} 件，按期结案率 {rate}", "en": "wrote {path} ({first} to {last}): {rows} {by} row(s), {ranked} ranked (at least {min_cases} due cases); {due} case(s) due, on-time closure rate {rate}"},
    "by_grid": {"zh": "网格", "en": "grid"},
    "by_team": {"zh": "工作站", "en": "team"},
    "by_department": {"zh": "部门", "en": "department"},
    "by_group": {"zh": "工作组", "en": "group"},
    "by_category": {"zh": "类别", "en": "category"},
    "by_unit": {"zh": "基本管理单元", "en": "unit"},
    # serve, db (serve.py)
    "serve_help": {"zh": "运行 HTTP 服务（OpenAPI 文档在 /docs）及其上报写入进程。", "en": "Run the HTTP service (OpenAPI at /docs) and its intake writer process."},
    "serve_host": {"zh": "监听的地址", "en": "address to listen on"},
    "serve_port": {"zh": "监听的端口", "en": "port to listen on"},
    "serve_workers": {"zh": "服务进程数：双核机器上 2 个进程每秒匹配最多，1 个进程每秒可收 500 件上报且延迟尾部更短（所有进程的上报由一个写入进程写入）", "en": "server processes: on a 2-core machine 2 answer the most matches per second, 1 answers reports at 500/s with the shorter tail (one intake writer process writes the reports of all of them)"},
    "serve_access_log": {"zh": "记录每个请求（uvicorn 的访问日志）", "en": "log every request (uvicorn's access log)"},
    "banner": {"zh": "gridsvc 网格化管理服务：{url}/（API 文档：/docs）", "en": "gridsvc grid-management service: {url}/  (API docs: /docs)"},
    "banner_try": {"zh": "  试一试：{url}/api/v1/match?lon=121.45&lat=31.33", "en": "  try: {url}/api/v1/match?lon=121.45&lat=31.33"},
    "banner_qgis": {"zh": "  QGIS：新建 OGC API - Features 连接，地址 {url}/ogc", "en": "  QGIS: add an OGC API - Features connection to {url}/ogc"},
    "banner_key": {"zh": "  案件需要密钥：.venv/bin/gridsvc keys create --role dispatcher --name <持有人>", "en": "  cases need a key: .venv/bin/gridsvc keys create --role dispatcher --name <who>"},
    "db_help": {"zh": "数据库：迁移", "en": "the database: migrations"},
    "db_upgrade_help": {"zh": "创建数据库或把它迁移到最新结构（可重复执行）。", "en": "Create or migrate the database to the newest schema (idempotent)."},
    "db_up_to_date": {"zh": "数据库 {url} 已是最新结构", "en": "database at {url} is up to date"},
}
# fmt: on


def lang_in(argv: Sequence[str], environ: dict[str, str] | os._Environ[str]) -> str:
    """The language ``argv`` asks for (``--lang en`` or ``--lang=en``), else the environment's.

    Unknown values fall back to Chinese here; the callback refuses them with a message.
    """
    chosen = environ.get("GRIDSVC_LANG", "zh")
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            chosen = argv[i + 1]
        elif arg.startswith("--lang="):
            chosen = arg.split("=", 1)[1]
    return chosen if chosen in LANGS else "zh"


_lang = lang_in(sys.argv[1:], os.environ)


def set_lang(lang: str) -> None:
    """Speak ``lang`` from now on (an unknown one is an InvalidInput naming those we speak)."""
    global _lang
    _lang = check_lang(lang)


def current_lang() -> str:
    """The language the messages are in now."""
    return _lang


def t(key: str, **values: object) -> str:
    """The message ``key`` in the current language, ``{name}`` placeholders filled in."""
    words = (TEXT.get(key) or MAP_TEXT[key])[_lang]
    return words.format(**values) if values else words


def level(kind: str) -> str:
    """A level's name: its value (``grids``) in English, the maps' word (责任网格) in Chinese."""
    if _lang == "en":
        return kind
    return t("street_segments" if kind == "streets" else kind)


def error_title(error: GridsvcError) -> str:
    """An error's title in the current language (the catalogue's, :mod:`gridsvc.core.messages`)."""
    return error.title_in(_lang)


def error_prefix(title: str | None = None) -> str:
    """``error: `` in English; ``错误（图层无效）：`` in Chinese, or ``错误：`` without a title."""
    if _lang == "en":
        return "error: "
    return f"错误（{title}）：" if title else "错误："
