"""The screens for the people who do the daily work (patrol, dispatch, handle, plan).

Server-rendered Jinja shells plus small ES modules, no build step: the pages
hold no data of their own and call the JSON API with the key the browser
keeps (never in a URL). Every asset is served from ``static/`` here or the
vendored Leaflet of ``gridsvc.maps``; nothing loads from the internet.
"""
