import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Construct } from "constructs";
import { type AwsLocation, arns } from "../access/arns";
import { LakeRole } from "../access/lake-role";
import { allow, trust } from "../access/policy";

export interface PrivateNetworkProps {
  /** Names every resource, e.g. `opl-dev-warehouse`. */
  readonly name: string;
  readonly location: AwsLocation;
  /** The VPC's CIDR; subnet i is cidrsubnet(cidr, 4, i). */
  readonly cidr: string;
  /** Zone letters (appended to the region), one private subnet each; at least 2. */
  readonly zones: readonly string[];
  /** AWS services reached through interface endpoints (the VPC has no NAT and no internet gateway). */
  readonly interfaceEndpoints: readonly string[];
  /** CMK of the flow log group (its key policy must admit CloudWatch Logs for this account's log groups). */
  readonly logsKeyArn: string;
  readonly logRetentionDays: number;
  /** The workload permissions boundary the flow-log delivery role carries. */
  readonly permissionsBoundaryArn: string;
}

/** Name of the flow log group of a network named `name` (the workload boundary admits writes to it). */
export const flowLogGroupName = (name: string): string => `/aws/vpc/flow-logs/${name}`;

const SUBNET_BITS = 4;

/** Terraform's cidrsubnet(cidr, newbits, netnum) for IPv4, computed here so the plan shows literal CIDRs. */
export function cidrSubnet(cidr: string, newbits: number, netnum: number): string {
  const [address = "", prefixText = ""] = cidr.split("/");
  const prefix = Number(prefixText);
  const octets = address.split(".").map(Number);
  if (octets.length !== 4 || octets.some((o) => !(o >= 0 && o <= 255)) || !(prefix >= 0 && prefix <= 32)) {
    throw new Error(`cidrSubnet: "${cidr}" is not an IPv4 CIDR such as 10.40.0.0/20.`);
  }
  const length = prefix + newbits;
  if (length > 28 || netnum >= 2 ** newbits) {
    throw new Error(`cidrSubnet: ${cidr} has no subnet ${netnum} of /${length} (use a larger VPC CIDR).`);
  }
  const base = octets.reduce((n, o) => n * 256 + o, 0);
  const network = base - (base % 2 ** (32 - prefix));
  const start = network + netnum * 2 ** (32 - length);
  const parts = [24, 16, 8, 0].map((shift) => Math.floor(start / 2 ** shift) % 256);
  return `${parts.join(".")}/${length}`;
}

/**
 * A private VPC: subnets in ≥ 2 zones with one route table and no route out (no NAT, no internet gateway), a
 * gateway endpoint for S3 and interface endpoints for the listed services (reachable on 443 from the VPC
 * only), the default security group stripped of every rule, and flow logs of all traffic to a KMS-encrypted
 * log group through a delivery role under the workload permissions boundary.
 */
export class PrivateNetwork extends Construct {
  readonly vpcId: string;
  readonly subnetIds: string[];
  /** The zone of each subnet, in `subnetIds` order. */
  readonly availabilityZones: string[];
  readonly endpointSecurityGroupId: string;
  /** The S3 gateway endpoint's prefix list (for egress rules to S3). */
  readonly s3PrefixListId: string;
  readonly flowLogGroupName: string;
  readonly flowLogRoleName: string;

  constructor(scope: Construct, id: string, props: PrivateNetworkProps) {
    super(scope, id);
    if (props.zones.length < 2 || new Set(props.zones).size !== props.zones.length) {
      throw new Error(
        `PrivateNetwork ${props.name}: list at least 2 distinct availability zones (got ${JSON.stringify(props.zones)}).`,
      );
    }
    const { region } = props.location;
    const vpc = new Vpc(this, "vpc", {
      cidrBlock: props.cidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: { Name: props.name },
    });
    // The default security group admits all traffic between its members; nothing may use it.
    new DefaultSecurityGroup(this, "default-security-group", { vpcId: vpc.id, ingress: [], egress: [] });
    const routes = new RouteTable(this, "private-routes", {
      vpcId: vpc.id,
      tags: { Name: `${props.name}-private` },
    });
    const subnets = props.zones.map((zone, i) => {
      const subnet = new Subnet(this, `private-${zone}`, {
        vpcId: vpc.id,
        availabilityZone: `${region}${zone}`,
        cidrBlock: cidrSubnet(props.cidr, SUBNET_BITS, i),
        mapPublicIpOnLaunch: false,
        tags: { Name: `${props.name}-private-${zone}` },
      });
      new RouteTableAssociation(this, `private-${zone}-routes`, {
        subnetId: subnet.id,
        routeTableId: routes.id,
      });
      return subnet;
    });
    const s3 = new VpcEndpoint(this, "s3-endpoint", {
      vpcId: vpc.id,
      serviceName: `com.amazonaws.${region}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds: [routes.id],
      tags: { Name: `${props.name}-s3` },
    });
    const endpointSg = new SecurityGroup(this, "endpoints-sg", {
      name: `${props.name}-endpoints`,
      description: "Interface endpoints: HTTPS from inside the VPC only",
      vpcId: vpc.id,
      egress: [],
      tags: { Name: `${props.name}-endpoints` },
    });
    new VpcSecurityGroupIngressRule(this, "endpoints-https-from-vpc", {
      securityGroupId: endpointSg.id,
      description: "HTTPS from the VPC",
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      cidrIpv4: props.cidr,
    });
    for (const service of props.interfaceEndpoints) {
      new VpcEndpoint(this, `${service}-endpoint`, {
        vpcId: vpc.id,
        serviceName: `com.amazonaws.${region}.${service}`,
        vpcEndpointType: "Interface",
        privateDnsEnabled: true,
        subnetIds: subnets.map((s) => s.id),
        securityGroupIds: [endpointSg.id],
        tags: { Name: `${props.name}-${service}` },
      });
    }

    const logGroupName = flowLogGroupName(props.name);
    const logGroup = new CloudwatchLogGroup(this, "flow-logs", {
      name: logGroupName,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.logsKeyArn,
    });
    const flowLogArn = `arn:${props.location.partition}:ec2:${region}:${props.location.account}:vpc-flow-log/*`;
    const role = new LakeRole(this, "flow-logs-role", {
      roleName: `${props.name}-flow-logs`,
      description: "VPC flow logs delivery into the warehouse network's log group",
      permissionsBoundaryArn: props.permissionsBoundaryArn,
      trustStatements: [
        trust("FlowLogsAssumeRole", { Service: "vpc-flow-logs.amazonaws.com" }, "sts:AssumeRole", {
          StringEquals: { "aws:SourceAccount": props.location.account },
          ArnLike: { "aws:SourceArn": flowLogArn },
        }),
      ],
      statements: [
        allow({
          sid: "DeliverFlowLogs",
          actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
          resources: [
            arns.logGroup(props.location, logGroupName),
            arns.logGroup(props.location, `${logGroupName}:*`),
          ],
        }),
      ],
    });
    new FlowLog(this, "flow-log", {
      vpcId: vpc.id,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: logGroup.arn,
      iamRoleArn: role.roleArn,
      maxAggregationInterval: 60,
    });

    this.vpcId = vpc.id;
    this.subnetIds = subnets.map((s) => s.id);
    this.availabilityZones = props.zones.map((zone) => `${region}${zone}`);
    this.endpointSecurityGroupId = endpointSg.id;
    this.s3PrefixListId = s3.prefixListId;
    this.flowLogGroupName = logGroupName;
    this.flowLogRoleName = role.roleName;
  }
}
