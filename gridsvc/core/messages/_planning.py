"""Messages of the planners' work on layers: uploads, drafts, town drafts, publish, rollback.

From services/planning.py, services/draft_editing.py, services/town_drafts.py,
services/layers.py, api/routes/layers.py, api/routes/ogc_drafts.py and cli/layers.py.
A layer's kind is a domain word (``{kind:word}``: grids → 责任网格).
"""

# fmt: off
PLANNING: dict[str, dict[str, str]] = {
    # planning.py: the uploaded file (上传图层文件)
    "upload.suffix": {"zh": "{filename!r}：请上传 GeoJSON、GeoPackage、压缩的 Shapefile 或 FlatGeobuf 文件", "en": "{filename!r}: upload GeoJSON, GeoPackage, a zipped Shapefile or FlatGeobuf"},
    "upload.too_large": {"zh": "上传的文件超过 {most:,} 字节", "en": "the upload is larger than {most:,} bytes"},
    "upload.bad_zip": {"zh": "上传的文件不是可读的 zip 压缩包", "en": "the upload is not a readable zip archive"},
    "upload.zip_bomb": {"zh": "这个 zip 解压后有 {unpacked:,} 字节（是压缩包的 {ratio:.0f} 倍），不予接收", "en": "the zip would unpack to {unpacked:,} bytes ({ratio:.0f}× its size); refused"},
    "upload.zip_path": {"zh": "zip 中有指向压缩包之外的路径：{name!r}", "en": "the zip holds a path outside the archive: {name!r}"},
    # planning.py: drafts, publish, rollback (草案、发布、回退)
    "draft.code_problems": {"zh": "{kind:word}图层有 {count} 个编码问题；每个要素都要有自己的编码，才能存为草案。第一个：{first}", "en": "{count} code problem(s) in the {kind} layer; every feature needs a code of its own before it can be a draft. First: {first}"},
    "draft.not_draft": {"zh": "版本 {draft_id} 是{status:word}版本，不是草案", "en": "version {draft_id} is {status}, not a draft"},
    "draft.blocking": {"zh": "草案 {draft_id} 有 {blocking} 个阻止发布的问题", "en": "draft {draft_id} has {blocking} blocking problem(s)"},
    "draft.published_meanwhile": {"zh": "草案 {draft_id} 已在此期间发布", "en": "draft {draft_id} was published meanwhile"},
    "publish.stale": {"zh": "{kind:word}图层的现行版本是 {current}，不是 {active_etag}；请重新预览影响", "en": "the active {kind} version is {current}, not {active_etag}; preview again"},
    "publish.overtaken": {"zh": "发布草案 {draft_id} 期间，{kind:word}图层已被发布了 {tries} 次；请重试", "en": "the {kind} layer was published {tries} times while draft {draft_id} was being published; try again"},
    "publish.town_changed": {"zh": "街镇 {town} 的{kind:word}在你预览时对照的版本 {seen} 与现行版本 {current} 之间有了变化；请重新预览影响", "en": "town {town}'s {kind} changed between version {seen}, which you previewed against, and the active version {current}; preview again"},
    "rollback.town": {"zh": "回退会替换整个{kind:word}图层，包括每个街镇的要素；限于街镇 {town} 的规划员密钥不能回退。请导出需要的版本（GET /api/v1/layers/{kind}/versions/<编号>.gpkg），保留街镇 {town} 的要素，再作为草案上传", "en": "a rollback replaces the whole {kind} layer, every town's; a planner's key scoped to town {town} cannot make one. Export the version you want (GET /api/v1/layers/{kind}/versions/<id>.gpkg), keep town {town}'s features and upload them as a draft"},
    "rollback.no_earlier": {"zh": "{kind:word}图层没有更早的版本可以回退", "en": "the {kind} layer has no earlier version to roll back to"},
    "rollback.stale": {"zh": "{kind:word}图层的现行版本是 {current}，不是 {active_etag}", "en": "the active {kind} version is {current}, not {active_etag}"},
    # draft_editing.py: a draft edited feature by feature (QGIS 在线编辑草案)
    "draft.none": {"zh": "没有草案 {draft_id}", "en": "there is no draft {draft_id}"},
    "draft.not_editable": {"zh": "版本 {draft_id} 是{status:word}版本：只有草案可以编辑", "en": "version {draft_id} is {status}: only a draft can be edited"},
    "draft.has_feature": {"zh": "草案中已有要素 {code!r}；请用 PUT 替换它", "en": "the draft already has a feature {code!r}; replace it with PUT"},
    "draft.no_feature": {"zh": "草案 {draft_id} 没有要素 {code!r}", "en": "draft {draft_id} has no feature {code!r}"},
    "draft.not_town_feature": {"zh": "要素 {code!r} 不属于街镇 {town}：草案 {draft_id} 是街镇 {town} 的重绘，只能修改该街镇的要素", "en": "feature {code!r} is not town {town}'s: draft {draft_id} is town {town}'s redraw and changes that town's features only"},
    "draft.if_match_needed": {"zh": "请带上你读到的要素 {code!r} 的 ETag 作为 If-Match，或先用此密钥读取该要素（GET 它的 items 或该要素）；两者都没有，别人的修改就会在无人察觉时被覆盖", "en": "send If-Match with the ETag of feature {code!r} you read, or read the feature with this key first (GET its items or the feature); without either a change by someone else would be overwritten unseen"},
    "feature.no_code": {"zh": "要素需要编码（属性 'code'）", "en": "a feature needs a code (the property 'code')"},
    "feature.code_length": {"zh": "编码最多 {most} 个字符；{code!r}… 超过了", "en": "a code has at most {most} characters; {code!r}… has more"},
    "feature.changed": {"zh": "要素 {code!r} 在你读取之后已被修改（ETag {etag}）；请重新读取，再做一次修改", "en": "feature {code!r} changed since you read it (ETag {etag}); read it again and redo your change"},
    "feature.changed_by": {"zh": "要素 {code!r} 在你读取之后已被修改：密钥 {name!r} 于 {at:%Y-%m-%d %H:%M:%S} UTC 写入（ETag {etag}）；请重新读取，再做一次修改", "en": "feature {code!r} changed since you read it: key {name!r} wrote it at {at:%Y-%m-%d %H:%M:%S} UTC (ETag {etag}); read it again and redo your change"},
    # town_drafts.py: a town's planner redraws its own town (街镇规划员重绘本街镇)
    "town.district_level": {"zh": "{kind:word}图层归区里：限于街镇 {town} 的规划员密钥只能重绘该街镇的基本管理单元、责任网格、居村委、单元网格和道路段", "en": "the {kind} layer is the district's: a planner's key scoped to town {town} redraws that town's units, grids, committees, cells and streets only"},
    "town.not_active": {"zh": "现行的街镇图层中没有街镇 {town}", "en": "there is no town {town} in the active towns layer"},
    "town.strays": {"zh": "{what}有 {count} 个要素不归街镇 {town} 重绘：{codes:list}。第一个：{first}", "en": "{count} feature(s) of {what} are not town {town}'s to redraw: {codes:list}. First: {first}"},
    "town.in_upload": {"zh": "上传的文件中", "en": "the upload"},
    "town.in_draft": {"zh": "草案 {draft_id} 中", "en": "draft {draft_id}"},
    "town.redrawn": {"zh": "街镇 {town} 的{kind:word}自版本 {seen_id} 以来有了变化：版本 {now_id}（{by}）重绘了它们；请在现行图层上重新起草", "en": "town {town}'s {kind} changed since version {seen_id}: version {now_id} ({by}) redrew them; draft again on the active layer"},
    "town.by_town": {"zh": "街镇 {town} 的重绘，{label!r}", "en": "town {town}'s redraw, {label!r}"},
    "town.by_district": {"zh": "区里的，{label!r}", "en": "the district's, {label!r}"},
    "town.no_draft": {"zh": "{kind:word}图层没有草案 {draft_id}", "en": "the {kind} layer has no draft {draft_id}"},
    # layers.py: stored versions (图层版本)
    "layers.at_zone": {"zh": "at 需要日期或带时差的时间，例如 2026-05-01 或 2026-05-01T08:00+08:00", "en": "at needs a date or a time with a zone offset, e.g. 2026-05-01 or 2026-05-01T08:00+08:00"},
    "layers.none_at": {"zh": "{moment} 时没有已发布的网格图层", "en": "no grid layer was published at {moment}"},
    "layers.none_published": {"zh": "没有已发布的{kind:word}图层", "en": "no published {kind} layer"},
    "layers.no_version": {"zh": "{kind:word}图层没有版本 {version_id}", "en": "the {kind} layer has no version {version_id}"},
    "layers.no_parent_level": {"zh": "{kind:word}图层没有上级层级", "en": "a {kind} layer has no parent level"},
    # routes/layers.py, routes/ogc_drafts.py
    "layers.rollback_if_match": {"zh": "请发送 If-Match: \"active-<编号>\"，指明你要替换的版本", "en": "send If-Match: \"active-<id>\" with the version you mean to replace"},
    "ogc.no_draft": {"zh": "没有集合 {kind}-draft-{draft_id}；规划员的密钥可在 /ogc/collections 下看到未发布的草案", "en": "no collection {kind}-draft-{draft_id}; a planner's key lists the open drafts under /ogc/collections"},
    "ogc.no_problem": {"zh": "草案 {draft_id} 现在没有编号为 {fid!r} 的问题", "en": "draft {draft_id} has no problem {fid!r} now"},
    "ogc.problems_read_only": {"zh": "草案 {draft_id} 的问题是只读的；请编辑 {collection} 的要素，问题会随之更新", "en": "the problems of draft {draft_id} are read-only; edit the features of {collection} and they follow"},
}
# fmt: on
