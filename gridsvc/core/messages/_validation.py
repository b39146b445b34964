"""Messages of a layer's validation (core/validation, coverage_checks, nesting_checks):
what a planner reads for each problem, on the command line, the /plan page and in QGIS."""

# fmt: off
VALIDATION: dict[str, dict[str, str]] = {
    # validation.py: single features
    "problem.missing_crs": {"zh": "{kind:word}图层没有声明坐标系", "en": "the {kind} layer has no CRS"},
    "problem.wrong_type": {"zh": "{noun:word} {label} 是 {got}；{kind:word}图层只收 {allowed:or}", "en": "{noun} {label} is a {got}; a {kind} layer holds {allowed:or}"},
    "problem.missing_code": {"zh": "{noun:word} {label} 没有编码", "en": "{noun} {label} has no code"},
    "problem.missing_code_named": {"zh": "{noun:word} {label}（名称 {name!r}）没有编码", "en": "{noun} {label} (named {name!r}) has no code"},
    "problem.duplicate_code": {"zh": "编码 {code} 被 {count} 个{kind:word}要素同时使用（要素 {rows:list}）", "en": "code {code} is used by {count} {kind} (features {rows:list})"},
    "problem.no_geometry": {"zh": "{noun:word} {label} 没有几何", "en": "{noun} {label} has no geometry"},
    "problem.invalid": {"zh": "{noun:word} {label} 不是有效的 {type}：{reason:word}", "en": "{noun} {label} is not a valid {type}: {reason}"},
    "problem.invalid_at": {"zh": "{noun:word} {label} 不是有效的 {type}：{reason:word}，位置 ({x}, {y})", "en": "{noun} {label} is not a valid {type}: {reason} at ({x}, {y})"},
    "problem.sliver": {"zh": "细小{kind:word}：{inner}；“闭合细小缝隙”修复（close_slivers）可一键闭合", "en": "sliver {kind}: {inner}; the close_slivers repair closes it"},
    # problems.py: noise-sized pieces gathered into one problem
    "problem.noise": {"zh": "{what}，每处小于 {noise} m²（合计 {total}），涉及 {codes}；请吸附边界", "en": "{what} smaller than {noise} m² each (together {total}), involving {codes}; snap the boundaries"},
    "problem.codes_more": {"zh": "{codes:list} 等（另有 {more} 个）", "en": "{codes:list} and {more} more"},
    # coverage_checks.py: a level's features against each other
    "problem.overlap": {"zh": "{noun:word} {first} 与 {second} 重叠 {area}，位于 {where} 附近", "en": "{noun}s {first} and {second} overlap by {area} around {where}"},
    "problem.overlap_noise": {"zh": "{noun:word}之间有 {count} 处重叠", "en": "{count} overlap(s) between {noun}s"},
    "problem.unmatched_edge": {"zh": "{noun:word} {names:list} 相接处有 {metres:,.1f} 米边界不共用节点；请吸附（QGIS：将几何图形吸附到图层）", "en": "{noun}s {names:list} meet along {metres:,.1f} m of edges that do not share vertices; snap them (QGIS: Snap geometries to layer)"},
    "problem.hole": {"zh": "{where} 处有 {area} 的缝隙，四周是{noun:word} {names:list}，没有任何{noun:word}覆盖", "en": "gap of {area} at {where} enclosed by {noun}s {names:list}; no {noun} covers it"},
    "problem.hole_noise": {"zh": "{noun:word}之间有 {count} 处空洞", "en": "{count} hole(s) between {noun}s"},
    # nesting_checks.py: against the level above
    "problem.no_parent": {"zh": "{noun:word} {label} 没有 parent_code；必须写明所属的{parent:word}", "en": "{noun} {label} has no parent_code; it must name its {parent}"},
    "problem.unknown_parent": {"zh": "{noun:word} {label} 的上级写的是{parent:word} {parent_code}，但{parent_kind:word}图层中没有它", "en": "{noun} {label} names {parent} {parent_code} as its parent, which is not in the {parent_kind} layer"},
    "problem.crosses_parent": {"zh": "{noun:word} {label} 有 {area} 超出所属{parent:word} {parent_code}，位于 {where} 附近", "en": "{noun} {label} reaches {area} outside its {parent} {parent_code} around {where}"},
    "problem.crosses_noise": {"zh": "{noun:word}超出所属{parent:word}的细小部分 {count} 处", "en": "{count} sliver(s) of {noun}s outside their {parent}"},
    "problem.outside_parent": {"zh": "{noun:word} {label}（{area}）位于所属{parent:word} {parent_code} 之外", "en": "{noun} {label} ({area}) lies outside its {parent} {parent_code}"},
    "problem.outside_parent_in": {"zh": "{noun:word} {label}（{area}）位于所属{parent:word} {parent_code} 之外；它实际位于 {names:list}", "en": "{noun} {label} ({area}) lies outside its {parent} {parent_code}; it lies in {names:list}"},
    "problem.parent_gap": {"zh": "{parent:word} {code} 在 {where} 处有 {area} 的缝隙，它的{noun:word}都没有覆盖", "en": "gap of {area} in {parent} {code} at {where}, covered by none of its {noun}s"},
    "problem.parent_gap_by": {"zh": "{parent:word} {code} 在 {where} 处有 {area} 的缝隙，它的{noun:word}都没有覆盖；相邻{noun:word}：{names:list}", "en": "gap of {area} in {parent} {code} at {where}, covered by none of its {noun}s; it borders {noun}s {names:list}"},
    "problem.parent_gap_noise": {"zh": "{noun:word}与所属{parent:word}之间有 {count} 处缝隙", "en": "{count} gap(s) between {noun}s and their {parent}"},
}
# fmt: on
