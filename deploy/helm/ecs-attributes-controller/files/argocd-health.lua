-- Argo CD health check for the ecs.alicloud.dev kinds (EcsInstanceAttributes, EcsInstanceAttributesSet
-- and any kind of this API that reports Ready plus the kstatus conditions Reconciling / Stalled).
-- Source: deploy/helm/ecs-attributes-controller/files/argocd-health.lua (docs/gitops.md shows it and
-- says how to install it). Argo CD runs it without Lua's string library, so it only concatenates.
local function find(conditions, kind)
  for _, c in ipairs(conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

local function explain(c)
  local text = tostring(c.reason or c.type)
  if c.message ~= nil and c.message ~= "" then
    text = text .. ": " .. tostring(c.message)
  end
  return text
end

local hs = { status = "Progressing", message = "Waiting for the controller to report status" }
local status = obj.status
if status == nil or status.conditions == nil then
  return hs
end

-- Conditions describe an older spec until the controller has seen this generation.
local generation = obj.metadata.generation
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.message = "Waiting for the controller to observe generation " .. tostring(generation)
  return hs
end

local stalled = find(status.conditions, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = explain(stalled)
  return hs
end

local reconciling = find(status.conditions, "Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  hs.message = explain(reconciling)
  return hs
end

local ready = find(status.conditions, "Ready")
if ready == nil then
  hs.message = "Waiting for the Ready condition"
  return hs
end
if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = explain(ready)
  return hs
end
if ready.reason == "Paused" then
  hs.status = "Suspended"
end
hs.message = explain(ready)
return hs
