-- description: Recipients whose name contains a text, biggest first (dashboard: recipient search).
SELECT recipient_kind, recipient_id, recipient_name, recipient_state, payments, total_usd
FROM marts.recipient_search
WHERE recipient_name ILIKE '%%' || %(name)s || '%%'
ORDER BY total_usd DESC, recipient_id
LIMIT 20
