"""Messages of gridsvc.services."""

# fmt: off
SERVICES: dict[str, dict[str, str]] = {
    # cases.py (上报、派遣、处置、核查、结案)
    "intake.key_in_flight": {"zh": "使用 Idempotency-Key {key!r} 的请求仍在处理中；请稍后重试", "en": "a request with Idempotency-Key {key!r} is still being processed; retry shortly"},
    "intake.key_reused": {"zh": "Idempotency-Key {key!r} 已用于另一份不同的上报内容", "en": "Idempotency-Key {key!r} was already used with a different report body"},
    "intake.outside": {"zh": "点位在辖区之外（{reason}）；{must}", "en": "the point is outside the jurisdiction ({reason}); {must}"},
    "intake.outside_inside_only": {"zh": "事项 {code} 必须在辖区内上报", "en": "matter {code} must be reported inside it"},
    "intake.outside_no_grid": {"zh": "附近没有网格可以承接", "en": "no grid is near enough to take it"},
    "case.stale": {"zh": "案件 {number} 当前是第 {version} 版，不是 {if_match}；请重新读取", "en": "case {number} is at version {version}, not {if_match}; read it again"},
    "case.changed": {"zh": "案件 {number} 在此期间已被修改；请重新读取", "en": "case {number} changed meanwhile; read it again"},
    "case.escalate_county": {"zh": "上报区级只能派给区级部门（乡呼县应）；{code!r} 不是区级部门。区级部门：{county:list}", "en": "escalation goes to a county department (乡呼县应); {code!r} is not one. County departments: {county:list}"},
    "case.duplicate_self": {"zh": "案件 {number} 不能与自己重复", "en": "case {number} cannot be a duplicate of itself"},
    "case.duplicate_missing": {"zh": "duplicate_of {other}：没有这个案件", "en": "duplicate_of {other}: no such case"},
    "case.no_number": {"zh": "没有编号为 {number!r} 的案件", "en": "no case numbered {number!r}"},
    "case.no_id": {"zh": "没有 id 为 {case_id} 的案件", "en": "no case with id {case_id}"},
    "case.patrol_own": {"zh": "网格员只能办理自己上报的案件", "en": "a patrol acts only on the cases it reported"},
    # reading.py
    "case.other_department": {"zh": "案件 {number} 由 {assignee} 办理，不属于部门 {department}", "en": "case {number} is held by {assignee}, not by department {department}"},
    "town.not_yours": {"zh": "此密钥没有街镇 {asked!r}；它只能查看街镇 {town}", "en": "no town {asked!r} for this key; it sees town {town} only"},
    # responsibility.py (属地管理清单)
    "list.too_large": {"zh": "属地管理清单不能超过 {kb} KB", "en": "a responsibility list over {kb} KB is refused"},
    "list.encoding": {"zh": "清单既不是 UTF-8 也不是 GBK 文本；请另存为 CSV UTF-8", "en": "the list is neither UTF-8 nor GBK text; save it as CSV UTF-8"},
    "list.bad_csv": {"zh": "清单不是可读的 CSV（第 {line} 行：{reason}）", "en": "the list is not a readable CSV (line {line}: {reason})"},
    "list.no_rows": {"zh": "清单没有数据行；第一行必须是列名", "en": "the list has no rows; the first line must name the columns"},
    "list.draft_etag": {"zh": "If-Match 指的是草案 {draft_etag}，而不是 {draft_id}", "en": "If-Match names draft {draft_etag}, not {draft_id}"},
    "list.not_draft": {"zh": "清单版本 {draft_id} 是{status:word}，不是草案", "en": "list version {draft_id} is {status}, not a draft"},
    "list.stale": {"zh": "现行清单是版本 {current}，不是 {active_etag}；请重新比对", "en": "the published list is version {current}, not {active_etag}; compare again"},
    "list.overtaken": {"zh": "另一次发布抢先完成：现行清单已是版本 {current}，不是 {active_etag}；请重新比对草案 {draft_id}", "en": "another publish came first: the published list is now version {current}, not {active_etag}; compare draft {draft_id} again"},
    "list.no_version": {"zh": "没有属地管理清单版本 {version_id}", "en": "no responsibility list version {version_id}"},
    "list.unknown_references": {"zh": "清单中有本街镇没有的内容：{shown:list}{more}", "en": "the list names what the town does not have: {shown:list}{more}"},
    "list.unknown_town": {"zh": "街镇 {town}", "en": "town {town}"},
    "list.unknown_department": {"zh": "{matter}：部门 {department}", "en": "{matter}: department {department}"},
    "list.unknown_group": {"zh": "{matter}：工作组 {group}", "en": "{matter}: working group {group}"},
    "list.more_unknown": {"zh": "，另有 {rest} 项", "en": "; and {rest} more"},
    # intake_process.py (the intake writer 上报写入进程)
    "writer.failed": {"zh": "上报写入进程未能保存这份上报：{reason}", "en": "the intake writer could not store the report: {reason}"},
    "writer.not_running": {"zh": "上报写入进程没有运行（{reason}）；请稍后重试", "en": "the intake writer is not running ({reason}); retry shortly"},
    "writer.timeout": {"zh": "上报写入进程在 {timeout:.0f} 秒内没有确认这份上报；它可能已保存：请用同一个 Idempotency-Key 重试", "en": "the intake writer did not confirm the report within {timeout:.0f} s; it may still be stored: retry with the same Idempotency-Key"},
    "writer.gone": {"zh": "上报写入进程在确认上报之前退出了；上报可能已保存：请用同一个 Idempotency-Key 重试", "en": "the intake writer went away before confirming the report; it may still be stored: retry with the same Idempotency-Key"},
    "writer.exited": {"zh": "上报写入进程已退出，退出码 {code}", "en": "the intake writer exited with {code}"},
    "writer.no_start": {"zh": "上报写入进程在 {seconds} 秒内没有启动", "en": "the intake writer did not start within {seconds} s"},
    # evaluation.py (考核)
    "eval.by": {"zh": "{by!r} 不是 {param:by} 可用的分组；可用的有 {groupings:list}", "en": "{by!r} is not a grouping for {param:by}; use one of {groupings:list}"},
    "eval.lang": {"zh": "{param:lang} 不支持 {lang!r}；请用 zh 或 en", "en": "{lang!r} is not offered for {param:lang}; use zh or en"},
    "eval.line_scores_by": {"zh": "条线考核分只用于部门：请配合 {param:by=department} 使用", "en": "line scores belong to departments: give them with {param:by=department}"},
    "eval.min_cases": {"zh": "{param:min_cases} 至少为 1；收到的是 {minimum}", "en": "{param:min_cases} must be at least 1; got {minimum}"},
    "eval.order": {"zh": "{param:to} {last} 早于 {param:from} {first}", "en": "{param:to} {last} comes before {param:from} {first}"},
    "eval.day_from": {"zh": "{value!r} 不是 {param:from} 可用的日期；请写成 YYYY-MM-DD", "en": "{value!r} is not a date for {param:from}; write it as YYYY-MM-DD"},
    "eval.day_to": {"zh": "{value!r} 不是 {param:to} 可用的日期；请写成 YYYY-MM-DD", "en": "{value!r} is not a date for {param:to}; write it as YYYY-MM-DD"},
    "eval.line_score_form": {"zh": "条线考核分 {item!r} 应写成 编码=分数，例如 X01=85（区级条线部门对该部门的考核分，0-100）", "en": "line score {item!r} must read CODE=SCORE, e.g. X01=85 (a county bureau's own assessment of the department, 0-100)"},
    "eval.file_suffix": {"zh": "{name}：考核结果请写入 .csv 或 .xlsx 文件", "en": "{name}: write the evaluation to a .csv or .xlsx file"},
    # keys.py (API 密钥)
    "keys.handler_department": {"zh": "处置部门的密钥必须绑定一个部门（{param:department}）", "en": "a handler key must be bound to a department ({param:department})"},
    "keys.department_role": {"zh": "只有处置部门的密钥绑定部门，{role:word}的密钥不绑定", "en": "only handler keys are bound to a department, not {role} keys"},
    "keys.grid_role": {"zh": "只有网格员的密钥绑定网格，{role:word}的密钥不绑定", "en": "only patrol keys are bound to a grid, not {role} keys"},
    "keys.none_yet": {"zh": "没有{what:word} {code!r}：本街镇还没有任何{what:word}（请先装入）", "en": "no {what} {code!r}: the town has none yet (load it first)"},
    "keys.unknown": {"zh": "没有{what:word} {code!r}；本街镇的有 {listing}", "en": "no {what} {code!r}; the town's are {listing}"},
    "keys.missing": {"zh": "请以 'Authorization: Bearer <密钥>' 发送 API 密钥", "en": "send an API key as 'Authorization: Bearer <key>'"},
    "keys.unknown_key": {"zh": "API 密钥不存在或已作废", "en": "unknown or revoked API key"},
    "keys.no_such": {"zh": "没有编号为 {key_id} 且尚未作废的密钥", "en": "no key {key_id} that is not already revoked"},
    # attachments.py (照片)
    "photo.kind": {"zh": "{name} 不是 {kinds} 图片（按内容识别，与文件名无关）", "en": "{name} is not a {kinds} image (decoded by content, whatever its name)"},
    "photo.bomb": {"zh": "{name} 解码后像素过多：{reason}", "en": "{name} decodes to too many pixels: {reason}"},
    "photo.damaged": {"zh": "{name} 是损坏的图片：{reason}", "en": "{name} is a damaged image: {reason}"},
    "photo.pixels": {"zh": "{name} 为 {width}×{height} 像素；最多接受 {most:,} 像素", "en": "{name} is {width}×{height} pixels; at most {most:,} are accepted"},
    "photo.damaged_kind": {"zh": "{name} 是损坏的 {kind} 图片：{reason}", "en": "{name} is a damaged {kind} image: {reason}"},
    "photo.trailing": {"zh": "{name} 在 PNG 图像结束之后还带有 {extra:,} 字节", "en": "{name} carries {extra:,} bytes after the end of its PNG image"},
    "photo.missing": {"zh": "案件 {case_id} 没有附件 {attachment_id}", "en": "case {case_id} has no attachment {attachment_id}"},
    # maps.py (地图)
    "maps.status": {"zh": "未知状态 {status!r}；可用的有 {allowed:list}", "en": "unknown status {status!r}; expected one of {allowed:list}"},
    "maps.not_a_time": {"zh": "{name}={value!r} 不是日期（2026-05-01）或 ISO 时间", "en": "{name}={value!r} is not a date (2026-05-01) or an ISO time"},
    "maps.no_zone": {"zh": "{name}={value!r} 需要时差，例如 2026-05-01T08:00+08:00", "en": "{name}={value!r} needs a zone offset, e.g. 2026-05-01T08:00+08:00"},
    "maps.no_grids": {"zh": "还没有发布责任网格图层；请运行 `gridsvc demo load` 或发布一个", "en": "no grid layer is published; run `gridsvc demo load` or publish one"},
    "maps.field": {"zh": "未知领域 {field!r}；可用的有 {fields:list}", "en": "unknown field {field!r}; expected one of {fields:list}"},
    # setup.py
    "setup.no_grids": {"zh": "数据库中没有已发布的责任网格图层；请运行 `gridsvc demo load`", "en": "the database holds no published grid layer; run `gridsvc demo load`"},
    # store/copying.py, store/matter_lists.py
    "db.revision": {"zh": "{name} 的数据库结构版本是 {at}，不是 {head}：请先对它运行 `gridsvc db upgrade`", "en": "{name} is at schema revision {at}, not {head}: run `gridsvc db upgrade` on it"},
    "db.target_not_empty": {"zh": "目标数据库不是空的：{table} 表有 {rows:,} 行", "en": "the target is not empty: {table} has {rows:,} rows"},
    "db.two_lists": {"zh": "数据库中有 {count} 份现行的属地管理清单（版本 {named}），而只允许一份；对 0006 号迁移之前的数据库，`gridsvc db upgrade` 会保留最新的一份，否则请手工停用其余的：UPDATE matter_lists SET status = 'retired' WHERE status = 'published' AND id <> {newest}", "en": "the database has {count} published responsibility lists (versions {named}) where one is allowed; `gridsvc db upgrade` keeps the newest in a database from before migration 0006, otherwise retire the others by hand: UPDATE matter_lists SET status = 'retired' WHERE status = 'published' AND id <> {newest}"},
}
# fmt: on
