"""The words on the role pages, Chinese first; the pages' scripts get them as JSON."""

from __future__ import annotations

from typing import Any

from gridsvc.maps.labels import check_lang

#: key -> (Chinese, English); the words every page has (sign-in, network, statuses)
_COMMON: dict[str, tuple[str, str]] = {
    "sign_in_intro": (
        "粘贴管理员发给您的密钥（只需一次，保存在本浏览器）。",
        "Paste the key your administrator gave you (once; it stays in this browser).",
    ),
    "key": ("密钥", "Key"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "checking": ("正在核对密钥…", "Checking the key…"),
    "bad_key": ("密钥无效或已吊销", "This key is unknown or revoked"),
    "offline_unchecked": (
        "离线：密钥将在联网后核对",
        "Offline: the key is checked when the network returns",
    ),
    "offline": ("当前离线", "Offline"),
    "online": ("在线", "Online"),
    "deadline": ("时限", "Due"),
    "refresh": ("刷新", "Refresh"),
    "other_lang": ("English", "中文"),
    "not_role": ("此密钥的角色不能使用本页面", "This key's role cannot use this page"),
    "forbidden_here": ("您的角色不能打开此页面", "Your role may not use this page"),
    "status_reported": ("待派遣", "Reported"),
    "status_dispatched": ("已派遣", "Dispatched"),
    "status_accepted": ("处置中", "Accepted"),
    "status_handled": ("已处置", "Handled"),
    "status_verified": ("已核查", "Verified"),
    "status_closed": ("已结案", "Closed"),
    "status_returned": ("已退回", "Returned"),
    "status_escalated": ("已上报上级", "Escalated"),
    "status_reopened": ("重新办理", "Reopened"),
    "status_duplicate": ("重复案件", "Duplicate"),
    "status_cancelled": ("已作废", "Cancelled"),
    "colour_green": ("正常", "On time"),
    "colour_yellow": ("黄灯", "Yellow"),
    "colour_orange": ("橙灯", "Orange"),
    "colour_red": ("红灯", "Red"),
    "action_report": ("上报", "reported"),
    "action_dispatch": ("派遣", "dispatch"),
    "action_accept": ("受理", "accept"),
    "action_return": ("退回", "return"),
    "action_handle": ("处置反馈", "report handling"),
    "action_verify": ("核查", "verify"),
    "action_close": ("结案", "close"),
    "action_reopen": ("重新办理", "reopen"),
    "action_escalate": ("上报区级", "escalate"),
    "action_duplicate": ("合并为重复", "merge as duplicate"),
    "action_cancel": ("作废", "cancel"),
    "action_defer": ("缓办", "defer"),
}

_PATROL: dict[str, tuple[str, str]] = {
    "title": ("网格员上报", "Patrol reports"),
    "app_name": ("网格巡查", "Grid patrol"),
    "new_report": ("新上报", "New report"),
    "my_reports": ("我的上报", "My reports"),
    "locating": ("正在定位…", "Locating…"),
    "accuracy": ("定位精度约 {m} 米", "GPS accuracy about {m} m"),
    "no_fix": (
        "无法定位：请在地图上点选问题位置",
        "No GPS fix: tap the map where the problem is",
    ),
    "drag_hint": ("可拖动图钉到问题所在位置", "Drag the pin to where the problem is"),
    "moved": ("位置已手动调整", "Position set by hand"),
    "category": ("问题类别", "Category"),
    "category_search": ("输入关键词搜索，如 垃圾、占道", "Type to search, e.g. 垃圾"),
    "category_pick": ("请选择问题类别", "Pick a category"),
    "description": ("问题描述", "Description"),
    "address": ("地址或标志物（可选）", "Address or landmark (optional)"),
    "photos": ("现场照片（最多 3 张）", "Photos (up to 3)"),
    "take_photo": ("拍照 / 选择照片", "Take or choose a photo"),
    "in_grid": ("位于 {grid} {street}", "In {grid} {street}"),
    "outside": (
        "不在本辖区内（距边界约 {m} 米）",
        "Outside the jurisdiction (about {m} m from it)",
    ),
    "photos_max": ("最多 3 张照片", "At most 3 photos"),
    "submit": ("提交上报", "Submit report"),
    "need_location": ("请先确定问题位置", "Set the problem's position first"),
    "queued": ("已保存在本机，联网后自动发送", "Saved on the phone; it is sent when online"),
    "pending": ("{n} 条待发送", "{n} waiting to send"),
    "sending": ("正在发送…", "Sending…"),
    "sent": ("已发送：案件 {number}", "Sent: case {number}"),
    "refused": ("未被受理：{detail}", "Refused: {detail}"),
    "discard": ("删除", "Discard"),
    "retry": ("重试", "Retry"),
    "no_reports": ("还没有上报", "No reports yet"),
}

_DISPATCH: dict[str, tuple[str, str]] = {
    "title": ("指挥中心调度台", "Dispatch workbench"),
    "app_name": ("指挥中心调度台", "Dispatch workbench"),
    "queue": ("在办案件", "Open cases"),
    "supervision": ("督办", "Supervision"),
    "filters": ("筛选", "Filters"),
    "all": ("全部", "All"),
    "grid": ("网格", "Grid"),
    "team": ("工作站", "Team"),
    "department": ("部门", "Department"),
    "category": ("类别", "Category"),
    "colour": ("灯色", "Colour"),
    "count": ("共 {n} 件", "{n} cases"),
    "new_case": ("新案件 {number}", "New case {number}"),
    "pick_case": (
        "从左侧列表或地图选择案件；快捷键 J/K 上下移动，Enter 打开",
        "Pick a case from the list or the map; J/K to move, Enter to open",
    ),
    "map": ("案件分布图", "Case map"),
    "case_panel": ("案件详情", "Case"),
    "description": ("描述", "Description"),
    "address": ("地址", "Address"),
    "reporter": ("上报人", "Reporter"),
    "reported_at": ("上报时间", "Reported"),
    "suggested": ("建议主责部门", "Suggested department"),
    "cooperating": ("协同部门", "Cooperating"),
    "assignee": ("当前承办", "Assigned to"),
    "hours_left": ("剩余 {h} 小时", "{h} h left"),
    "overdue": ("已超时", "Overdue"),
    "photos": ("照片", "Photos"),
    "no_photos": ("无照片", "No photos"),
    "history": ("办理过程", "History"),
    "duplicates": ("疑似重复", "Possible duplicates"),
    "no_duplicates": ("无疑似重复案件", "No possible duplicates"),
    "merge_into": ("将本案合并到 {number}", "Merge this case into {number}"),
    "metres": ("{m} 米", "{m} m"),
    "actions": ("操作", "Actions"),
    "no_actions": ("当前状态下无可执行操作", "No action possible now"),
    "reason": ("理由", "Reason"),
    "note": ("备注（可选）", "Note (optional)"),
    "dispatch_to": ("派遣至", "Dispatch to"),
    "escalate_to": ("上报至区级部门", "Escalate to county department"),
    "duplicate_of": ("重复于", "Duplicate of"),
    "confirm": ("确定", "Confirm"),
    "cancel_dialog": ("取消", "Cancel"),
    "done": ("已{action}：{number}", "{action} done: {number}"),
    "taken_by": (
        "已由 {actor} {action}（{time}），已刷新，请核对后再操作",
        "Already {action} by {actor} ({time}); reloaded, check before acting",
    ),
    "changed_meanwhile": ("案件已被他人更新，已刷新", "Someone changed the case; reloaded"),
    "live": ("实时", "Live"),
    "live_lost": ("实时连接中断，正在重连…", "Live updates lost, reconnecting…"),
}

PAGES: dict[str, dict[str, tuple[str, str]]] = {"patrol": _PATROL, "dispatch": _DISPATCH}


def page_texts(page: str, lang: str) -> dict[str, Any]:
    """Every word of ``page`` in ``lang`` (zh or en), the common ones included."""
    index = ("zh", "en").index(check_lang(lang))
    return {key: pair[index] for key, pair in {**_COMMON, **PAGES[page]}.items()}
