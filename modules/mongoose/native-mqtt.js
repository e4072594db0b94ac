// SPDX-License-Identifier: MIT
// The C functions of MQTT (c/xm_mg_mqtt.c), for manager.ts, connection.ts and
// messages.ts only; TypeScript cannot express `@ "c_name"`.
export function managerMqttConnect(manager, url, clientId, user, pass, clean, keepalive, version,
  willTopic, willMessage, willQos, willRetain) @ "xm_mg_manager_mqtt_connect";

export function connMqttPub(conn, topic, message, qos, retain, properties) @ "xm_mg_conn_mqtt_pub";
export function connMqttSub(conn, topic, qos) @ "xm_mg_conn_mqtt_sub";
export function connMqttUnsub(conn, topic) @ "xm_mg_conn_mqtt_unsub";
export function connMqttPing(conn) @ "xm_mg_conn_mqtt_ping";
export function connMqttPong(conn) @ "xm_mg_conn_mqtt_pong";
export function connMqttDisconnect(conn) @ "xm_mg_conn_mqtt_disconnect";
export function connMqttSendHeader(conn, cmd, flags, length) @ "xm_mg_conn_mqtt_send_header";

export function mmTopic(msg) @ "xm_mg_mm_topic";
export function mmData(msg, asText) @ "xm_mg_mm_data";
export function mmPacket(msg) @ "xm_mg_mm_packet";
export function mmField(msg, n) @ "xm_mg_mm_field";
export function mmProperties(msg) @ "xm_mg_mm_properties";
