-- spans: 
TRUE
-- params: []

-- spans: transaction:uploadDocument
("transaction" = ?)
-- params: ["uploadDocument"]

-- spans: transaction:*DOC*
("transaction" ILIKE ? ESCAPE '\')
-- params: ["%DOC%"]

-- spans: !transaction:[login,registerOnBlockchain]
((("transaction" IN (?, ?))) IS NOT TRUE)
-- params: ["login", "registerOnBlockchain"]

-- spans: service:frontend environment:staging
((service = ?) AND (environment = ?))
-- params: ["frontend", "staging"]

-- spans: project:sh*
((SELECT name FROM projects WHERE projects.id = project_id) ILIKE ? ESCAPE '\')
-- params: ["sh%"]

-- spans: user.email:demo@test.com
(user_email = ?)
-- params: ["demo@test.com"]

-- spans: !user.id:42
(((user_id = ?)) IS NOT TRUE)
-- params: ["42"]

-- spans: http.status_code:>=500
(TRY_CAST(coalesce(json_extract_string(tags, '$."http.status_code"'), json_extract_string(data, '$."http.response.status_code"'), json_extract_string(data, '$."http.status_code"')) AS DOUBLE) >= ?)
-- params: [500]

-- spans: transaction.duration:>1.5s
(duration_ms > ?)
-- params: [1500.0]

-- spans: span.duration:<=200ms
(duration_ms <= ?)
-- params: [200.0]

-- spans: timestamp:-15m
(start_ts >= ?)
-- params: [1699999100.0]

-- spans: browser.name:Firefox OR os.name:Linux
((browser_name = ?) OR (os_name = ?))
-- params: ["Firefox", "Linux"]

-- spans: (service:api OR service:web) !status:ok
(((service = ?) OR (service = ?)) AND (((status = ?)) IS NOT TRUE))
-- params: ["api", "web", "ok"]

-- spans: tags[customer]:acme
(json_extract_string(tags, ?) = ?)
-- params: ["/customer", "acme"]

-- spans: has:user.email
(user_email IS NOT NULL)
-- params: []

-- spans: !has:release
(((release IS NOT NULL)) IS NOT TRUE)
-- params: []

-- spans: checkout failed
(("transaction" ILIKE ? ESCAPE '\' OR description ILIKE ? ESCAPE '\') AND ("transaction" ILIKE ? ESCAPE '\' OR description ILIKE ? ESCAPE '\'))
-- params: ["%checkout%", "%checkout%", "%failed%", "%failed%"]

-- spans: trace.status:error
(json_extract_string(tags, ?) = ?)
-- params: ["/trace.status", "error"]

-- segments: span.op:blockchain.wait
((trace_id, span_id) IN (SELECT trace_id, segment_id FROM spans WHERE (op = ?)))
-- params: ["blockchain.wait"]

-- segments: span.op:db span.duration:>1s transaction:checkout
(((trace_id, span_id) IN (SELECT trace_id, segment_id FROM spans WHERE ((op = ?) AND (duration_ms > ?)))) AND ("transaction" = ?))
-- params: ["db", 1000.0, "checkout"]

-- segments: !span.status:ok tags[chain]:base*
(((trace_id, span_id) IN (SELECT trace_id, segment_id FROM spans WHERE ((((status = ?)) IS NOT TRUE) AND (json_extract_string(tags, ?) ILIKE ? ESCAPE '\')))))
-- params: ["ok", "/chain", "base%"]

-- segments: span.op:db OR service:api
(((trace_id, span_id) IN (SELECT trace_id, segment_id FROM spans WHERE (op = ?))) OR (service = ?))
-- params: ["db", "api"]

-- segments: confirmation
(("transaction" ILIKE ? ESCAPE '\' OR description ILIKE ? ESCAPE '\') OR ((trace_id, span_id) IN (SELECT trace_id, segment_id FROM spans WHERE (description ILIKE ? ESCAPE '\'))))
-- params: ["%confirmation%", "%confirmation%", "%confirmation%"]

-- segments per trace: span.op:blockchain.wait
(trace_id IN (SELECT trace_id FROM spans WHERE (op = ?)))
-- params: ["blockchain.wait"]

-- segments per trace: span.op:db span.duration:>1s transaction:checkout
((trace_id IN (SELECT trace_id FROM spans WHERE ((op = ?) AND (duration_ms > ?)))) AND ("transaction" = ?))
-- params: ["db", 1000.0, "checkout"]

-- errors: 
TRUE
-- params: []

-- errors: is:unresolved
(issue_id IN (SELECT id FROM issues WHERE status = ?))
-- params: ["unresolved"]

-- errors: level:error !handled:yes
((level = ?) AND (((json_extract_string(tags, ?) = ?)) IS NOT TRUE))
-- params: ["error", "/handled", "yes"]

-- errors: error.type:ValueError error.value:*timeout*
((type = ?) AND (value ILIKE ? ESCAPE '\'))
-- params: ["ValueError", "%timeout%"]

-- errors: message:*connection*
(message ILIKE ? ESCAPE '\')
-- params: ["%connection%"]

-- errors: first_seen:-24h
(issue_id IN (SELECT issue_id FROM errors GROUP BY issue_id HAVING (min("timestamp") >= ?)))
-- params: [1699913600.0]

-- errors: tags[region]:eu-*
(json_extract_string(tags, ?) ILIKE ? ESCAPE '\')
-- params: ["/region", "eu-%"]

-- logs: 
TRUE
-- params: []

-- logs: severity:error
(CAST(severity_number AS VARCHAR) = ?)
-- params: ["error"]

-- logs: body:*timeout*
(body ILIKE ? ESCAPE '\')
-- params: ["%timeout%"]

-- logs: service:api http.route:/checkout
((service = ?) AND (json_extract_string(attributes, ?) = ?))
-- params: ["api", "/http.route", "/checkout"]

-- logs: oops
(body ILIKE ? ESCAPE '\')
-- params: ["%oops%"]

-- metrics: 
TRUE
-- params: []

-- metrics: service:api
(service = ?)
-- params: ["api"]

-- metrics: !environment:prod region:eu*
((((environment = ?)) IS NOT TRUE) AND (json_extract_string(attributes, ?) ILIKE ? ESCAPE '\'))
-- params: ["prod", "/region", "eu%"]
